#!/usr/bin/env bash
# Cross-build the addon for linux-arm64-gnu on x86_64 with Debian's cross toolchain
# (g++-aarch64-linux-gnu) against the arm64 sysroot of scripts/arm64-sysroot.sh, statically
# linking the codecs and elfutils like the x86_64 build (native/build-flags.cjs, VAAT_LINK=static).
# Builds in a scratch copy outside the repository (build/ stays the machine's own build) and puts
# the result at npm/linux-arm64-gnu/vaat_native.node. Rebuilds only when native/ or binding.gyp changed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=npm/linux-arm64-gnu/vaat_native.node
dir=${VAAT_CROSS_DIR:-$HOME/.cache/vaat-cross}
if [ -f "$out" ] && [ -z "$(find native binding.gyp -newer "$out" 2>/dev/null | head -1)" ]; then
  echo "build-arm64: $out is up to date" >&2
  exit 0
fi
for tool in aarch64-linux-gnu-g++ pkg-config; do
  command -v $tool >/dev/null || { echo "build-arm64: $tool missing (bash scripts/setup.sh --with-cross installs it)" >&2; exit 1; }
done
sysroot=$(bash scripts/arm64-sysroot.sh)
multiarch=$sysroot/usr/lib/aarch64-linux-gnu
elfutils=$(bash scripts/elfutils-pic.sh arm64)  # Debian's libdw.a/libelf.a are not PIC

# pkg-config reading the sysroot's .pc files only.
mkdir -p "$dir/bin"
cat > "$dir/bin/pkg-config-arm64" <<WRAP
#!/bin/sh
PKG_CONFIG_SYSROOT_DIR='$sysroot' PKG_CONFIG_LIBDIR='$multiarch/pkgconfig:$sysroot/usr/share/pkgconfig' exec pkg-config "\$@"
WRAP
chmod +x "$dir/bin/pkg-config-arm64"

work=$dir/build-arm64
rm -rf "$work"
mkdir -p "$work"
cp -r binding.gyp native "$work/"
ln -s "$repo/node_modules" "$work/node_modules"
(
  cd "$work"
  export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar
  # The sysroot's headers (pkg-config leaves out -I/usr/include, which the cross compiler does not search).
  export CXXFLAGS="-I$sysroot/usr/include -I$sysroot/usr/include/aarch64-linux-gnu"
  export VAAT_PKG_CONFIG=$dir/bin/pkg-config-arm64 VAAT_LIBDIRS=$elfutils:$multiarch:$sysroot/lib/aarch64-linux-gnu VAAT_LINK=static
  # N-API is the same on every architecture: the machine's Node headers serve (npm_config_nodedir, .npmrc).
  "$repo/node_modules/.bin/node-gyp" rebuild --arch=arm64 -j 2 --nodedir="${npm_config_nodedir:-/usr}" --loglevel=warn
)
aarch64-linux-gnu-strip --strip-unneeded -o "$out" "$work/build/Release/vaat_native.node"
rm -rf "$work"
echo "build-arm64: built $out" >&2
