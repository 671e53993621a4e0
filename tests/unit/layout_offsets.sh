#!/usr/bin/env bash
# SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
# Checks user/cpython/cpython_layout.c against the headers of every supported
# CPython installed by pyenv (with its internal headers), and of Debian
# unstable's in the root tools/unstable-root.sh builds: layout_offsets.c, built
# per version. A version found in neither is skipped, with a SKIP line.
# Usage: layout_offsets.sh OUTPUT_DIR [CC]
set -euo pipefail

out=$1
cc=${2:-cc}
root=${PYENV_ROOT:-$HOME/.pyenv}
header=user/cpython/cpython_layout.h
oldest=$(sed -n 's/^#define CPYTHON_OLDEST_MINOR \([0-9]*\)$/\1/p' "$header")
newest=$(sed -n 's/^#define CPYTHON_NEWEST_MINOR \([0-9]*\)$/\1/p' "$header")
mkdir -p "$out"

# The newest 3.<minor>.<patch> pyenv has (no free-threaded or dev builds).
installed() {
	ls -d "$root"/versions/3."$1".* 2>/dev/null | grep -E "/3\.$1\.[0-9]+$" | sort -V | tail -n 1
}

# Debian's headers include <x86_64-linux-gnu/python3.X/pyconfig.h>: a folder
# holding only that, so the root's own libc headers stay out of the build.
sid=$(bash tools/unstable-root.sh --print 2>/dev/null || true)
if [ -n "$sid" ]; then
	mkdir -p "$out/sid-include"
	ln -sfn "$sid/usr/include/$(gcc -print-multiarch)" "$out/sid-include/"
fi

# build_and_check NAME INCLUDE_DIR [EXTRA_CFLAGS...]
build_and_check() {
	local name=$1 inc=$2
	shift 2
	"$cc" -DPy_BUILD_CORE "$@" -I"$inc" -I"$inc/internal" -Iuser/cpython \
		tests/unit/layout_offsets.c user/cpython/cpython_layout.c -o "$out/layout_offsets_$name"
	"$out/layout_offsets_$name" || failed=1
}

failed=0
for minor in $(seq "$oldest" "$newest"); do
	checked=0
	version=$(installed "$minor" || true)
	inc=$version/include/python3.$minor
	if [ -n "$version" ] && [ -r "$inc/internal/pycore_runtime.h" ]; then
		build_and_check "3.$minor" "$inc"
		checked=1
	fi
	inc=$sid/usr/include/python3.$minor
	if [ -n "$sid" ] && [ -r "$inc/internal/pycore_runtime.h" ]; then
		build_and_check "debian-sid-3.$minor" "$inc" -I"$out/sid-include"
		checked=1
	fi
	[ $checked = 1 ] ||
		echo "SKIP 3.$minor: no CPython 3.$minor with internal headers under $root/versions or in the Debian unstable root"
done
exit $failed
