#!/usr/bin/env bash
# Install everything vaat needs on Debian 12 (as root), then build it. Safe to run again:
# it installs only what is missing and rebuilds only when sources changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: compiler, pkg-config; the addon is built as the prebuilt linux-x64-gnu binary is, against a
# Debian 11 sysroot (scripts/bullseye-sysroot.sh: glibc 2.31, fetched from deb.debian.org), whose
# elfutils curl, bzip2 and m4 fetch, unpack and build (scripts/elfutils-pic.sh). The system's
# -dev packages serve a build from source (`npm run build:native`, README, test/packaging.test.ts)
# and give libkdumpfile's headers.
BUILD_PKGS="g++ make python3 pkg-config curl bzip2 m4 libkdumpfile-dev liblzo2-dev libsnappy-dev libzstd-dev zlib1g-dev libdw-dev libelf-dev"
# The linux-arm64-gnu prebuilt binary, cross-built here and run under qemu (scripts/build-arm64.sh).
CROSS_PKGS="g++-aarch64-linux-gnu qemu-user-static"
# Tests and benchmarks: independent oracles and peers (pahole, crash, drgn, libkdumpfile's Python binding, codecs);
# tmux and less for the interactive session test (a real terminal, a real pager).
# The fleet service's end-to-end tests start their own redis-server and PostgreSQL (initdb/pg_ctl) on loopback.
# The fixtures' kernel debug vmlinux (DWARF, test/dwarf.test.ts): a 280 MB download, 589 MB installed.
# Debian's chromium: the HTML report's browser tests drive it with puppeteer-core (never a downloaded browser).
TEST_PKGS="redis-server postgresql tmux less dwarves crash python3-drgn python3-libkdumpfile python3-snappy lzop zstd makedumpfile linux-image-6.1.0-54-cloud-amd64-dbg chromium"
PKGS="$BUILD_PKGS"
cross=no
for arg in "$@"; do
  case $arg in
    --with-test-tools) PKGS="$PKGS $TEST_PKGS" ;;
    --with-cross) PKGS="$PKGS $CROSS_PKGS"; cross=yes ;;
    *) echo "setup: unknown option $arg (--with-test-tools, --with-cross)" >&2; exit 2 ;;
  esac
done
# No Node on the machine: Debian's own (18.19), with the headers node-gyp builds the addon against.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs npm libnode-dev"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  # others may be running apt on the same machine: wait for the lock rather than fail
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
fi

# The arm64 fixtures' debug vmlinux (DWARF for the arm64 tests): Debian's arm64 -dbg package,
# downloaded (261 MB, ~40 s) and only its vmlinux unpacked (273 MB, ~1 min) where vaat's debug
# lookup finds it; installing a foreign-architecture kernel package is not needed.
ARM64_RELEASE=6.1.0-54-cloud-arm64
ARM64_VMLINUX=/usr/lib/debug/boot/vmlinux-$ARM64_RELEASE
if [ "${1:-}" = "--with-test-tools" ] && [ ! -s "$ARM64_VMLINUX" ]; then
  echo "setup: fetching the arm64 debug vmlinux ($ARM64_RELEASE)" >&2
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    apt-get -o DPkg::Lock::Timeout=600 update -qq
  fi
  dl=$(mktemp -d)
  (cd "$dl" && { apt-get -o DPkg::Lock::Timeout=600 download -qq "linux-image-$ARM64_RELEASE-dbg:arm64" 2>/dev/null ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 download -qq "linux-image-$ARM64_RELEASE-dbg:arm64"; }; })
  # Unpack to a temporary name first, so an interrupted run never leaves a partial vmlinux behind.
  mkdir -p "$(dirname "$ARM64_VMLINUX")"
  dpkg-deb --fsys-tarfile "$dl"/linux-image-"$ARM64_RELEASE"-dbg_*_arm64.deb |
    tar -x -O ".$ARM64_VMLINUX" > "$ARM64_VMLINUX.part"
  mv "$ARM64_VMLINUX.part" "$ARM64_VMLINUX"
  rm -rf "$dl"
fi

# npm packages exactly as locked; skip when node_modules already matches the lock file.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.vaat-lock; then
  # `npm install` rather than `npm ci`: npm 11's ci refuses this lock file over the optional
  # per-platform packages of rollup that it never installs here; install still follows the lock.
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.vaat-lock
fi

# better-sqlite3 (the service's embedded database) is a native module too: built here from the
# SQLite sources its package ships, since --ignore-scripts skipped its own install step.
if [ ! -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ]; then
  (cd node_modules/better-sqlite3 && npx --no-install node-gyp rebuild --release -j 2 --nodedir="${npm_config_nodedir:-/usr}" --loglevel=warn)
fi

# The native addon (node-gyp, offline against the Node headers named in .npmrc), built as the
# prebuilt linux-x64-gnu binary is (scripts/pack.sh ships this build): against Debian 11's glibc
# 2.31, with libstdc++, libgcc, the codecs and elfutils linked in, so it needs glibc 2.31+ only
# (native/build-flags.cjs). Rebuilt when native/, binding.gyp or the sysroot changed. Then the TypeScript.
sysroot=$(bash scripts/bullseye-sysroot.sh x64)
stamp=build/.vaat-native-stamp
if [ ! -f build/Release/vaat_native.node ] || [ ! -f "$stamp" ] || [ -n "$(find native binding.gyp "$sysroot/.vaat-packages" -newer "$stamp" 2>/dev/null | head -1)" ]; then
  VAAT_SYSROOT=$sysroot VAAT_LINK=static npx --no-install node-gyp rebuild -j 2 --nodedir="${npm_config_nodedir:-/usr}" --loglevel=warn
  touch "$stamp"
fi
# arm64: the cross-built binary, and Debian 12's arm64 node to run it under qemu;
# and Debian 11's node for both, where the packaging test loads them on glibc 2.31
if [ $cross = yes ]; then
  bash scripts/build-arm64.sh
  bash scripts/arm64-sysroot.sh >/dev/null
  for a in x64 arm64; do bash scripts/bullseye-sysroot.sh $a --node >/dev/null; done
fi
npm run --silent build:ts

# The 5.10 fixture set's DWARF: Debian 11's kernel -dbg (a 262 MB download, ~2 min here; 1.8 GB
# unpacked), fetched from the bullseye archive with a private apt configuration, once.
if [ "${1:-}" = "--with-test-tools" ]; then
  bash scripts/fetch-debug-kernel.sh bullseye linux-image-5.10.0-43-cloud-amd64-dbg 5.10.0-43-cloud-amd64
fi
