#!/bin/sh
# A python executable for the tests, backed by Debian unstable's stripped
# CPython, which only runs inside the root tools/unstable-root.sh builds.
# Invoke it through a symlink named python3.13, python3.14 or python3.15: it
# runs /usr/bin/python3.X "$@" in that root, in a private mount namespace with
# /proc mounted and with this repository and /tmp bind-mounted at the same
# paths, so workload paths and temporary files work unchanged.
#
# Every step execs the next (sh, unshare, sh, unshare --root, python; unshare
# --root is chroot that also keeps the working directory): python ends up
# with this script's PID, so the signals a test sends it reach python and
# killing it leaves nothing behind; it shares the host's PID namespace, so
# os.getpid() is the PID the host sees. stdin, stdout and stderr pass through.
set -eu

# python3.X: Debian's build; python3.X-symbols: the one tools/cpython-symbol-builds.sh made
name=$(basename "$0")
case $name in
python3.1[345]) python=/usr/bin/$name ;;
python3.1[45]-symbols)
	version=${name#python}
	version=${version%-symbols}
	python=/opt/cpython-$version/bin/python$version
	;;
*)
	echo "sid_python.sh: run me through a symlink named python3.13, python3.14 or python3.15 (or python3.14-symbols, python3.15-symbols), not $name" >&2
	exit 2
	;;
esac

repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
if ! root=$(bash "$repo/tools/unstable-root.sh" --print); then
	echo "sid_python.sh: no complete Debian unstable root; build it with 'make test-root' (tools/unstable-root.sh)" >&2
	exit 2
fi

# Beside a process this wrapper started (INFLIGHT_SID_BESIDE=PID): in its
# mount namespace, root and working directory. CPython's own tools (python -m
# asyncio ps PID) open the binary that /proc/PID/maps names, and that path is
# the right one only from there: seen from another mount namespace, it is the
# file's path on the host.
if [ -n "${INFLIGHT_SID_BESIDE:-}" ]; then
	exec nsenter --target "$INFLIGHT_SID_BESIDE" --mount --root --wd "$python" "$@"
fi

# mount points for the repository (under /tmp it comes with /tmp)
case $repo in
/tmp | /tmp/*) repo= ;;
*) mkdir -p "$root$repo" ;;
esac

# $1: the root, $2: the repository ('' for none), $3: the interpreter, then python's arguments.
# The working directory is kept when it exists inside the root.
inside='
set -eu
root=$1 repo=$2 python=$3
shift 3
mount -t proc proc "$root/proc"
mount --bind /tmp "$root/tmp"
[ -z "$repo" ] || mount --bind "$repo" "$root$repo"
wd=/
[ ! -d "$root$PWD" ] || wd=$PWD
exec unshare --root="$root" --wd="$wd" "$python" "$@"
'
exec unshare --mount --propagation private sh -c "$inside" sid-python \
	"$root" "$repo" "$python" "$@"
