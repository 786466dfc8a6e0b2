#!/usr/bin/env bash
# A Debian 11 (bullseye, glibc 2.31) sysroot the prebuilt addons are built against, so that they
# run on glibc 2.31 and newer (Debian 11, Ubuntu 20.04, ...): a binary linked against a glibc
# asks for the newest symbol versions of that glibc's headers and libc.so. Holds bullseye's
# glibc (headers, libc.so and friends), kernel headers, GCC 10's libstdc++ and libgcc (headers and
# static archives: the addon carries its own C++ runtime, so the target's libstdc++ does not
# matter) and the codecs' headers and static archives; elfutils' libdw/libelf built from source
# against it as position-independent archives (scripts/elfutils-pic.sh). libkdumpfile is not in
# bullseye: its headers (the addon opens the library at run time, native/kdumpfile_loader.cc)
# come from this machine's libkdumpfile-dev.
#   scripts/bullseye-sysroot.sh x64|arm64          prints the sysroot's path
#   scripts/bullseye-sysroot.sh x64|arm64 --node   Debian 11's nodejs (12.22, N-API 8) and its
#     libraries in a directory of their own: the oldest platform the prebuilt binaries support,
#     where test/packaging.test.ts loads them (through that glibc's ld.so; under qemu for arm64)
# The packages (bullseye's last point release; security updates do not change what is linked)
# are downloaded from deb.debian.org with a private apt configuration (the machine's
# sources and packages are left alone) and unpacked with dpkg-deb -x, never installed. Cached
# under ~/.cache/vaat-cross (VAAT_CROSS_DIR); safe to run again: downloads only when the list
# below changes.
set -euo pipefail
arch=${1:?usage: bullseye-sysroot.sh x64|arm64 [--node]}
node=${2:-}
case $arch in
  x64) debarch=amd64 multiarch=x86_64-linux-gnu ;;
  arm64) debarch=arm64 multiarch=aarch64-linux-gnu ;;
  *) echo "bullseye-sysroot: unknown architecture $arch (x64, arm64)" >&2; exit 2 ;;
esac
dir=${VAAT_CROSS_DIR:-$HOME/.cache/vaat-cross}
if [ "$node" = --node ]; then
  sysroot=$dir/bullseye-node-$arch
  PKGS="nodejs libnode72 libc6 libgcc-s1 libstdc++6 libbrotli1 libc-ares2 libicu67 libnghttp2-14 libssl1.1 libuv1 zlib1g"
  ELFUTILS=
else
  sysroot=$dir/bullseye-$arch
  PKGS="libc6 libc6-dev linux-libc-dev libstdc++-10-dev libgcc-10-dev liblzo2-dev libsnappy-dev libzstd-dev zlib1g-dev"
  ELFUTILS=0.188  # scripts/elfutils-pic.sh
fi
debs="$(echo $PKGS | tr ' ' '\n' | sed "s/\$/:$debarch/" | tr '\n' ' ')"
want="${debs}${ELFUTILS:+elfutils-$ELFUTILS}"
stamp=$sysroot/.vaat-packages
mkdir -p "$dir"
exec 9>"$dir/.bullseye-$arch$node.lock"
flock 9  # worktrees share the cache: one download at a time
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$sysroot"
  exit 0
fi

apt=$dir/apt-bullseye
mirror=${VAAT_DEBIAN_MIRROR:-http://deb.debian.org}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial"
cat >"$apt/sources.list" <<EOF
deb [signed-by=$keyring] $mirror/debian bullseye main
EOF
opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Dir::State::status=/dev/null"
      -o "APT::Architectures::=amd64" -o "APT::Architectures::=arm64" -o "APT::Sandbox::User=root")
# apt's lists are kept (their age checked) so a second architecture does not fetch them again.
if [ -z "$(find "$apt/lists" -name '*_InRelease' -mmin -1440 2>/dev/null | head -1)" ]; then
  apt-get "${opts[@]}" -qq update >&2
fi
dl=$dir/debs-bullseye-$arch
rm -rf "$dl" "$sysroot"
mkdir -p "$dl" "$sysroot"
(cd "$dl" && apt-get "${opts[@]}" -qq download $debs >&2)
for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
rm -rf "$dl"
# Absolute symbolic links (/lib64/ld-linux-x86-64.so.2 -> /lib/...) made relative, to point inside.
find "$sysroot" -type l -lname '/*' | while read -r link; do
  ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot$(readlink "$link")")" "$link"
done
if [ "$node" = --node ]; then
  echo "$want" > "$stamp"
  echo "$sysroot"
  exit 0
fi
# libkdumpfile's headers and pkg-config files (no library: it is never linked).
cp -r /usr/include/libkdumpfile "$sysroot/usr/include/"
cp /usr/lib/x86_64-linux-gnu/pkgconfig/libkdumpfile.pc /usr/lib/x86_64-linux-gnu/pkgconfig/libaddrxlat.pc \
  "$sysroot/usr/lib/$multiarch/pkgconfig/"
sed -i "s|/lib/x86_64-linux-gnu|/lib/$multiarch|" "$sysroot/usr/lib/$multiarch/pkgconfig/"lib{kdumpfile,addrxlat}.pc
elfutils=$(bash "$(dirname "$0")/elfutils-pic.sh" "$arch" "$sysroot")
cp -r "$elfutils/usr/." "$sysroot/usr/"
echo "$want" > "$stamp"
echo "$sysroot"
