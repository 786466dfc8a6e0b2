#!/usr/bin/env bash
# Cross-build the addon for linux-arm64-gnu on x86_64 with Debian's cross toolchain
# (g++-aarch64-linux-gnu) against Debian 11's arm64 sysroot (scripts/bullseye-sysroot.sh: glibc
# 2.31, GCC 10's libstdc++ linked in, codecs and elfutils linked statically; the same flags as the
# x86_64 build, native/build-flags.cjs with VAAT_SYSROOT and VAAT_LINK=static).
# Builds in a scratch copy outside the repository (build/ stays the machine's own build) and puts
# the result at npm/linux-arm64-gnu/vaat_native.node. Rebuilds only when native/, binding.gyp or
# the sysroot changed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=npm/linux-arm64-gnu/vaat_native.node
dir=${VAAT_CROSS_DIR:-$HOME/.cache/vaat-cross}
for tool in aarch64-linux-gnu-g++ pkg-config; do
  command -v $tool >/dev/null || { echo "build-arm64: $tool missing (bash scripts/setup.sh --with-cross installs it)" >&2; exit 1; }
done
sysroot=$(bash scripts/bullseye-sysroot.sh arm64)
if [ -f "$out" ] && [ -z "$(find native binding.gyp "$sysroot/.vaat-packages" -newer "$out" 2>/dev/null | head -1)" ]; then
  echo "build-arm64: $out is up to date" >&2
  exit 0
fi
work=$dir/build-arm64
rm -rf "$work"
mkdir -p "$work"
cp -r binding.gyp native "$work/"
ln -s "$repo/node_modules" "$work/node_modules"
(
  cd "$work"
  export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar
  export VAAT_SYSROOT=$sysroot VAAT_LINK=static
  # N-API is the same on every architecture: the machine's Node headers serve (npm_config_nodedir, .npmrc).
  "$repo/node_modules/.bin/node-gyp" rebuild --arch=arm64 -j 2 --nodedir="${npm_config_nodedir:-/usr}" --loglevel=warn
)
aarch64-linux-gnu-strip --strip-unneeded -o "$out" "$work/build/Release/vaat_native.node"
rm -rf "$work"
echo "build-arm64: built $out" >&2
