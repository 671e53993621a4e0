#!/usr/bin/env bash
# Build inflight's Debian package (make deb) from a built inflight and the files
# under tools/: the binary (stripped), the man page, the bash completion, the
# sweep's systemd units (installed, not enabled: the package has no maintainer
# scripts), the docs, and the files under tools/deb/ (control, copyright,
# changelog, lintian overrides).
#
# Usage: tools/deb/build.sh VERSION INFLIGHT DEB
set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: tools/deb/build.sh VERSION INFLIGHT DEB" >&2
	exit 2
fi
version=$1 binary=$2 deb=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
umask 022

# the changelog names the version it describes: it must be this one
logged=$(sed -n '1s/^inflight (\([^)]*\)).*/\1/p' "$here/changelog")
if [ "$logged" != "$version" ]; then
	echo "inflight: failed to build the package: tools/deb/changelog's newest entry is" \
		"'$logged', the version is '$version'; add an entry for $version" >&2
	exit 2
fi

stage=$(mktemp -d "$deb.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
doc=$stage/usr/share/doc/inflight

# as dh_strip leaves an executable
install -D -m 0755 "$binary" "$stage/usr/sbin/inflight"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/sbin/inflight"

install -d "$stage/usr/share/man/man8"
gzip -9n <"$repo/man/inflight.8" >"$stage/usr/share/man/man8/inflight.8.gz"
install -D -m 0644 "$repo/tools/completion/inflight.bash" \
	"$stage/usr/share/bash-completion/completions/inflight"

# the units run the inflight installed here
units=$stage/lib/systemd/system
install -d "$units"
sed 's|^ExecStart=/usr/local/sbin/inflight |ExecStart=/usr/sbin/inflight |' \
	"$repo/tools/systemd/inflight-sweep.service" >"$units/inflight-sweep.service"
install -m 0644 "$repo/tools/systemd/inflight-sweep.timer" "$units/"

# docs as dh_compress leaves them: larger than 4 KiB, gzip'ed
install -D -m 0644 "$repo/README.md" "$doc/README.md"
install -d "$doc/docs"
install -m 0644 "$repo"/docs/*.md "$doc/docs/"
find "$doc" -type f -size +4k -exec gzip -9n {} +
gzip -9n <"$here/changelog" >"$doc/changelog.gz"
# copyright: LICENSE's BSD text, as a DEP-5 license paragraph (" ." for a blank line)
bsd=$(sed -n '/^Redistribution and use/,/SUCH DAMAGE\.$/p' "$repo/LICENSE" |
	sed 's/^$/./; s/^/ /')
awk -v bsd="$bsd" '$0 == "@BSD_2_CLAUSE@" { print bsd; next } { print }' \
	"$here/copyright.in" >"$doc/copyright"
install -D -m 0644 "$here/lintian-overrides" "$stage/usr/share/lintian/overrides/inflight"

# the static libraries' source packages, as Debian names them for a static link
built_using=$(dpkg-query -W -f='${source:Package} (= ${source:Version}), ' libc6-dev \
	libbpf-dev libelf-dev zlib1g-dev libzstd-dev libjson-c-dev libcapstone-dev)
install -d "$stage/DEBIAN"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
	>"$stage/DEBIAN/md5sums"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$(dpkg --print-architecture)/" \
	-e "s/@INSTALLED_SIZE@/$(du -sk --apparent-size --exclude=DEBIAN "$stage" | cut -f1)/" \
	-e "s/@BUILT_USING@/${built_using%, }/" "$here/control.in" >"$stage/DEBIAN/control"
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/control"

dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb.tmp" >/dev/null
mv "$deb.tmp" "$deb"
