#!/usr/bin/env bash
# Build (once) a minimal Debian unstable root holding Debian's own python3.13,
# python3.14 and python3.15 (with their headers, which the layout tests check
# inflight's tables against): stripped PGO/LTO builds whose glibc is newer than
# the host's, so they run only inside it (chroot). Tests and the bench run their
# workloads there, which also exercises reading a target through another root.
#
# Usage: tools/unstable-root.sh [--print]
#   --print  print the root's path and exit 0 if it is complete, 1 if not.
# The root lives outside the repository, in $INFLIGHT_CACHE (default
# /var/cache/inflight), and is rebuilt only when missing or incomplete.
set -euo pipefail

CACHE=${INFLIGHT_CACHE:-/var/cache/inflight}
ROOT=$CACHE/sid-root
MIRROR=${INFLIGHT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PYTHONS=(python3.13 python3.14 python3.15)
HEADERS=(libpython3.13-dev libpython3.14-dev libpython3.15-dev)
STAMP=$ROOT/.inflight-complete

complete() {
	[ -f "$STAMP" ] || return 1
	local py
	for py in "${PYTHONS[@]}"; do
		[ -x "$ROOT/usr/bin/$py" ] || return 1
		[ -r "$ROOT/usr/include/${py}/internal/pycore_debug_offsets.h" ] ||
			[ "$py" = python3.13 ] || return 1
	done
}

if [ "${1:-}" = "--print" ]; then
	complete && { echo "$ROOT"; exit 0; }
	exit 1
fi

complete && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "inflight: building the Debian unstable test root needs root (debootstrap, chroot)" >&2
	exit 2
fi

if ! command -v debootstrap >/dev/null; then
	echo "inflight: installing debootstrap with apt-get" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
fi

mkdir -p "$CACHE"
partial=$CACHE/sid-root.partial
rm -rf "$partial"
echo "inflight: building a Debian unstable root with ${PYTHONS[*]} in $ROOT (about a minute)" >&2
include=$(IFS=,; echo "${PYTHONS[*]},${HEADERS[*]}")
if ! debootstrap --variant=minbase --include="$include" sid "$partial" "$MIRROR" \
	>"$CACHE/debootstrap.log" 2>&1; then
	echo "inflight: debootstrap failed; its log: $CACHE/debootstrap.log" >&2
	tail -5 "$CACHE/debootstrap.log" >&2
	exit 1
fi
rm -rf "$ROOT"
mv "$partial" "$ROOT"
touch "$STAMP"
echo "inflight: Debian unstable root ready: $ROOT" >&2
