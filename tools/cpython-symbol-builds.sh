#!/usr/bin/env bash
# Build CPython 3.14 and 3.15 with their symbols, from Debian unstable's own
# source packages, inside the Debian unstable root (tools/unstable-root.sh):
# configured --enable-shared, installed under /opt/cpython-3.X in that root,
# so tests can trace them beside Debian's stripped builds. Cached: a version
# already built is left alone. The tests use these builds where present and
# name them as skipped where not.
#
# Usage: tools/cpython-symbol-builds.sh [3.14 3.15]
set -euo pipefail
cd "$(dirname "$0")/.."

VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(3.14 3.15)
bash tools/unstable-root.sh
ROOT=$(bash tools/unstable-root.sh --print)
# the root's package lists come from an archive snapshot whose Release may have expired
APT=(apt-get -o Acquire::Check-Valid-Until=false -qq)
BUILD_DEPS=(gcc make dpkg-dev xz-utils pkg-config zlib1g-dev libffi-dev libssl-dev)

in_root() {
	chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive "$@"
}

prepare_root() {
	if [ ! -f "$ROOT/etc/apt/sources.list.d/inflight-src.list" ]; then
		echo "deb-src http://deb.debian.org/debian sid main" \
			>"$ROOT/etc/apt/sources.list.d/inflight-src.list"
	fi
	in_root "${APT[@]}" update
	in_root "${APT[@]}" install -y --no-install-recommends "${BUILD_DEPS[@]}" >/dev/null
}

build_one() {
	local v=$1 prefix=/opt/cpython-$1 src=/usr/src/inflight-cpython-$1
	if [ -x "$ROOT$prefix/bin/python$v" ]; then
		echo "inflight: CPython $v with symbols already built: $ROOT$prefix" >&2
		return 0
	fi
	rm -rf "$ROOT$src"
	mkdir -p "$ROOT$src"
	if ! in_root sh -c "cd $src && ${APT[*]} source python$v" >"$ROOT$src.log" 2>&1; then
		echo "inflight: cannot fetch the source package of python$v (apt-get source):" >&2
		tail -3 "$ROOT$src.log" >&2
		return 1
	fi
	echo "inflight: building CPython $v with symbols in $ROOT$prefix (several minutes)" >&2
	in_root sh -c "cd $src/python$v-*/ && ./configure --enable-shared --prefix=$prefix \
		LDFLAGS=-Wl,-rpath,$prefix/lib >/dev/null && make -j$(nproc) >/dev/null && \
		make install >/dev/null"
}

prepare_root
failed=0
for v in "${VERSIONS[@]}"; do
	build_one "$v" || failed=1
done
exit $failed
