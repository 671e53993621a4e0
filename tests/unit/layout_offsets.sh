#!/usr/bin/env bash
# SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
# Checks user/cpython/cpython_layout.c against the headers of every supported
# CPython installed by pyenv (with its internal headers): layout_offsets.c,
# built per version. A version not installed is skipped, with a SKIP line.
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

failed=0
for minor in $(seq "$oldest" "$newest"); do
	version=$(installed "$minor" || true)
	inc=$version/include/python3.$minor
	if [ -z "$version" ] || [ ! -r "$inc/internal/pycore_runtime.h" ]; then
		echo "SKIP 3.$minor: no CPython 3.$minor with internal headers under $root/versions"
		continue
	fi
	bin=$out/layout_offsets_3.$minor
	"$cc" -DPy_BUILD_CORE -I"$inc" -I"$inc/internal" -Iuser/cpython \
		tests/unit/layout_offsets.c user/cpython/cpython_layout.c -o "$bin"
	"$bin" || failed=1
done
exit $failed
