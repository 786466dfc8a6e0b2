#!/usr/bin/env bash
# Debian 12's arm64 (aarch64) nodejs and the libraries it needs, for running the cross-built
# linux-arm64-gnu addon under qemu-user on this x86_64 machine (test/packaging.test.ts; the addon
# itself is built against scripts/bullseye-sysroot.sh). The packages are downloaded (apt-get
# download) and unpacked into a directory (dpkg-deb -x), never installed, so the machine's own
# packages are untouched. Needs `dpkg --add-architecture arm64` (done here, once). Prints the
# directory's path. Safe to run again: it downloads only when the package list changed.
set -euo pipefail
dir=${VAAT_CROSS_DIR:-$HOME/.cache/vaat-cross}
sysroot=$dir/arm64-node
# nodejs and its shared libraries; libkdumpfile so the optional reader loads there too.
RUN="nodejs libnode108 libc6 libgcc-s1 libstdc++6 libbrotli1 libc-ares2 libicu72 libnghttp2-14 libssl3 libuv1 zlib1g
     libkdumpfile10 liblzo2-2 libsnappy1v5 libzstd1 libbz2-1.0 liblzma5 libdw1 libelf1"
# nodejs's JavaScript dependencies (architecture all).
ALL="node-acorn node-cjs-module-lexer node-undici node-busboy node-xtend"
want="$(echo $RUN | tr ' ' '\n' | sed 's/$/:arm64/') $ALL"
stamp=$sysroot/.vaat-packages
mkdir -p "$dir"
exec 9>"$dir/.sysroot.lock"
flock 9  # worktrees share the cache: one download at a time
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(echo $want)" ]; then
  echo "$sysroot"
  exit 0
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
elif ! apt-cache show nodejs:arm64 >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
fi
rm -rf "$dir/debs" "$sysroot"
mkdir -p "$dir/debs" "$sysroot"
(cd "$dir/debs" && apt-get -o APT::Sandbox::User=root download -q $want >&2)
for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
rm -rf "$dir/debs"
echo $want > "$stamp"
echo "$sysroot"
