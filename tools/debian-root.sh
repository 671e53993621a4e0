#!/usr/bin/env bash
# Build (once) a minimal Debian root that the tests run programs in (chroot):
#
#   sid       Debian unstable's own python3.13, python3.14 and python3.15 (with
#             their headers, which the layout tests check inflight's tables
#             against): stripped PGO/LTO builds whose glibc is newer than the
#             host's, so they run only inside it. Tests and the bench run their
#             workloads there, which also exercises reading a target through
#             another root.
#   bullseye  Debian 11: glibc 2.31 and its stripped python3.9, older than the
#             build machine's; the packaging tests run the static inflight and
#             install its .deb there.
#
# Usage: tools/debian-root.sh SUITE [--print]
#   --print  print the root's path and exit 0 if it is complete, 1 if not.
# A root lives outside the repository, in $INFLIGHT_CACHE (default
# /var/cache/inflight), as SUITE-root, and is rebuilt only when missing or
# incomplete.
set -euo pipefail

usage() {
	echo "inflight: $1" >&2
	echo "usage: tools/debian-root.sh sid|bullseye [--print]" >&2
	exit 2
}

SUITE=${1:-}
case $SUITE in
sid)
	WHAT="Debian unstable root with python3.13, python3.14 and python3.15"
	PACKAGES=(python3.13 python3.14 python3.15 libpython3.13-dev libpython3.14-dev
		libpython3.15-dev)
	;;
bullseye)
	WHAT="Debian 11 root with python3.9"
	PACKAGES=(python3.9)
	;;
*) usage "unknown Debian suite '$SUITE': expected sid or bullseye" ;;
esac

CACHE=${INFLIGHT_CACHE:-/var/cache/inflight}
ROOT=$CACHE/$SUITE-root
MIRROR=${INFLIGHT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
STAMP=$ROOT/.inflight-complete

# what each root's users rely on being there
complete() {
	[ -f "$STAMP" ] || return 1
	case $SUITE in
	sid)
		local py
		for py in python3.13 python3.14 python3.15; do
			[ -x "$ROOT/usr/bin/$py" ] || return 1
			[ -r "$ROOT/usr/include/${py}/internal/pycore_debug_offsets.h" ] ||
				[ "$py" = python3.13 ] || return 1
		done
		;;
	bullseye)
		[ -x "$ROOT/usr/bin/python3.9" ] && [ -x "$ROOT/usr/bin/apt" ]
		;;
	esac
}

case ${2:-} in
--print)
	complete && { echo "$ROOT"; exit 0; }
	exit 1
	;;
"") ;;
*) usage "unknown option '$2': expected --print or nothing" ;;
esac

complete && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "inflight: building the $WHAT needs root (debootstrap, chroot)" >&2
	exit 2
fi

if ! command -v debootstrap >/dev/null; then
	echo "inflight: installing debootstrap with apt-get" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
fi

mkdir -p "$CACHE"
partial=$CACHE/$SUITE-root.partial
log=$CACHE/debootstrap-$SUITE.log
rm -rf "$partial"
echo "inflight: building a $WHAT in $ROOT (about a minute)" >&2
include=$(IFS=,; echo "${PACKAGES[*]}")
if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$partial" "$MIRROR" \
	>"$log" 2>&1; then
	echo "inflight: debootstrap failed; its log: $log" >&2
	tail -5 "$log" >&2
	exit 1
fi
rm -rf "$ROOT"
mv "$partial" "$ROOT"
touch "$STAMP"
echo "inflight: $WHAT ready: $ROOT" >&2
