#!/usr/bin/env bash
# Fetch a kernel -dbg package of another Debian release (the fixtures' 5.10 kernel is Debian 11's)
# and unpack it where vaat looks for debuginfo (/usr/lib/debug/boot/vmlinux-<release>, the
# module .ko files under /usr/lib/debug/lib/modules/<release>/, the .build-id links), as
# installing it would. The system's apt sources are left alone: apt reads a private sources.list,
# lists and cache under $VAAT_APT_CACHE. Safe to run again: an unpacked kernel is not fetched twice.
#
#   scripts/fetch-debug-kernel.sh DIST PACKAGE RELEASE
#   e.g. scripts/fetch-debug-kernel.sh bullseye linux-image-5.10.0-43-cloud-amd64-dbg 5.10.0-43-cloud-amd64
set -euo pipefail
dist=$1 pkg=$2 release=$3
root=${VAAT_DEBUG_ROOT:-/}
if [ -f "$root/usr/lib/debug/boot/vmlinux-$release" ]; then exit 0; fi

cache=${VAAT_APT_CACHE:-/var/cache/vaat/apt-$dist}
mirror=${VAAT_DEBIAN_MIRROR:-http://deb.debian.org}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$cache/sources.list.d" "$cache/lists/partial" "$cache/cache/archives/partial" "$cache/debs"
cat >"$cache/sources.list" <<EOF
deb [signed-by=$keyring] $mirror/debian $dist main
deb [signed-by=$keyring] $mirror/debian-security $dist-security main
EOF
opts=(-o "Dir::Etc::SourceList=$cache/sources.list" -o "Dir::Etc::SourceParts=$cache/sources.list.d"
      -o "Dir::State::Lists=$cache/lists" -o "Dir::Cache=$cache/cache" -o "APT::Sandbox::User=root")

start=$SECONDS
deb=$(ls "$cache/debs/${pkg}"_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
  echo "setup: fetching $pkg from Debian $dist (private apt lists in $cache)" >&2
  apt-get "${opts[@]}" -qq update
  (cd "$cache/debs" && apt-get "${opts[@]}" -qq download "$pkg")
  deb=$(ls "$cache/debs/${pkg}"_*.deb | head -1)
fi
# Unpack beside, then move into place, the vmlinux last: it marks the kernel as done, so an
# interrupted run is finished by the next one.
mkdir -p "$root/usr/lib/debug/boot"
tmp=$(mktemp -d "$root/usr/lib/debug/.vaat-unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
vmlinux=$tmp/usr/lib/debug/boot/vmlinux-$release
[ -f "$vmlinux" ] || { echo "setup: $deb has no usr/lib/debug/boot/vmlinux-$release" >&2; exit 1; }
mv "$vmlinux" "$tmp/vmlinux"
cp -a --remove-destination "$tmp/usr/lib/debug/." "$root/usr/lib/debug/"
mv "$tmp/vmlinux" "$root/usr/lib/debug/boot/vmlinux-$release"
rm -f "$deb"  # unpacked: the .deb is only a second copy
echo "setup: $pkg unpacked into $root/usr/lib/debug in $((SECONDS - start)) s" >&2
