#!/usr/bin/env bash
# npm pack the vaat package and each platform package whose binary is here, into OUTDIR:
#   npm/linux-x64-gnu/vaat_native.node    this machine's build (build/Release, scripts/setup.sh),
#                                          when this machine is x86_64, stripped
#   npm/linux-arm64-gnu/vaat_native.node  scripts/build-arm64.sh's cross build
# Prints the tarballs' paths. Publishing is `npm publish` of each, platform packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:?usage: scripts/pack.sh OUTDIR}")
mkdir -p "$out"
if [ "$(uname -m)" = x86_64 ] && [ -f build/Release/vaat_native.node ]; then
  strip --strip-unneeded -o npm/linux-x64-gnu/vaat_native.node build/Release/vaat_native.node
fi
npm pack --silent --pack-destination "$out" | sed "s|^|$out/|"
for p in npm/*/; do
  [ -f "$p/vaat_native.node" ] && (cd "$p" && npm pack --silent --pack-destination "$out" | sed "s|^|$out/|")
done
