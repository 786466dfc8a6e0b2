#!/usr/bin/env bash
# elfutils' libdw and libelf as static archives of position-independent code, for linking into
# the addon (a shared object). Debian's libdw.a/libelf.a cannot be: they are built for
# executables (initial TLS as local-exec, R_X86_64_TPOFF32). Built from Debian's elfutils source
# (0.188, bookworm's; checked against the .dsc's SHA-256) with -fPIC, against the Debian 11
# sysroot the prebuilt addons are built in (scripts/bullseye-sysroot.sh calls this), without
# bzip2/lzma/zstd (only libdwfl's opening of compressed files uses them; the addon does not).
#   scripts/elfutils-pic.sh x64|arm64 SYSROOT
# Prints a directory laid out as the sysroot is (usr/include: libelf.h, gelf.h, elfutils/;
# usr/lib/<triple>: libdw.a, libelf.a, pkgconfig/), which the caller copies in. Builds once per
# version and architecture, outside the repository (~/.cache/vaat-cross).
set -euo pipefail
arch=${1:?usage: elfutils-pic.sh x64|arm64 SYSROOT}
sysroot=${2:?usage: elfutils-pic.sh x64|arm64 SYSROOT}
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${VAAT_CROSS_DIR:-$HOME/.cache/vaat-cross}
ver=0.188 debver=0.188-2.1
case $arch in
  x64) triple=x86_64-linux-gnu tools="" ;;
  arm64) triple=aarch64-linux-gnu tools=aarch64-linux-gnu- ;;
  *) echo "elfutils-pic: unknown architecture $arch (x64, arm64)" >&2; exit 2 ;;
esac
out=$dir/elfutils-$ver-$arch-glibc2.31
mkdir -p "$dir"
exec 8>"$dir/.elfutils-$arch.lock"
flock 8  # worktrees share the cache: one build at a time
if [ -f "$out/usr/lib/$triple/libdw.a" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$dir/src"
src=$dir/src/elfutils-$ver
if [ ! -d "$src" ]; then
  pool=http://deb.debian.org/debian/pool/main/e/elfutils
  (cd "$dir/src" && curl -sSfO "$pool/elfutils_$debver.dsc" && curl -sSfO "$pool/elfutils_$ver.orig.tar.bz2")
  sum=$(awk '/^Checksums-Sha256:/{f=1;next} f&&/orig.tar.bz2$/{print $1;exit}' "$dir/src/elfutils_$debver.dsc")
  echo "$sum  $dir/src/elfutils_$ver.orig.tar.bz2" | sha256sum -c --quiet - >&2
  tar -C "$dir/src" -xjf "$dir/src/elfutils_$ver.orig.tar.bz2"
fi
# The sysroot's headers and libraries only (native/build-flags.cjs says which flags that takes).
export CC=${tools}gcc CXX=${tools}g++ AR=${tools}ar RANLIB=${tools}ranlib VAAT_SYSROOT=$sysroot
cflags="-O2 -g0 -fPIC $(node "$repo/native/build-flags.cjs" sysroot-cflags c)"
ldflags=$(node "$repo/native/build-flags.cjs" sysroot-ldflags)
build=$dir/elfutils-build-$arch-glibc2.31  # kept until the archives are out, so an interrupted build resumes
mkdir -p "$build"
cd "$build"
conf=(--prefix=/usr --libdir=/usr/lib/$triple --disable-debuginfod --disable-libdebuginfod --disable-nls --without-valgrind
      --without-bzlib --without-lzma --without-zstd)
[ "$arch" = arm64 ] && conf+=(--host=$triple)
if [ ! -f configured ]; then
  "$src/configure" "${conf[@]}" CFLAGS="$cflags" CXXFLAGS="$cflags" LDFLAGS="$ldflags" > configure.log 2>&1 ||
    { tail -20 configure.log >&2; grep -B5 -A20 'error:' config.log | tail -40 >&2; exit 1; }
  touch configured
fi
# libebl opens an architecture's backend (and the backends' disassemblers, libcpu) by machine.
for part in lib:libeu libelf:libelf libebl:libebl backends:libebl_backends libcpu:libcpu libdwelf:libdwelf libdwfl:libdwfl libdw:libdw; do
  d=${part%%:*}
  nice make -C "$d" -j2 "${part##*:}.a" > "make-$d.log" 2>&1 || { tail -20 "make-$d.log" >&2; exit 1; }
done
rm -rf "$out.tmp"
lib=$out.tmp/usr/lib/$triple
mkdir -p "$lib/pkgconfig" "$out.tmp/usr/include/elfutils"
cp libelf/libelf.a "$lib/"
# One libdw.a, as Debian ships it: libdw calls into libdwelf (build ids, debugaltlink), libdwfl,
# libebl and through it the backends.
{
  echo "CREATE $lib/libdw.a"
  for a in libdw/libdw.a libdwelf/libdwelf.a libdwfl/libdwfl.a libebl/libebl.a backends/libebl_backends.a libcpu/libcpu.a lib/libeu.a; do echo "ADDLIB $a"; done
  echo SAVE; echo END
} | $AR -M
# The headers and pkg-config files `make install` would put there.
cp "$src"/libelf/{libelf.h,gelf.h,nlist.h} "$out.tmp/usr/include/"
cp "$src"/libdw/{libdw.h,known-dwarf.h} "$src"/libdwfl/libdwfl.h "$src"/libdwelf/libdwelf.h version.h "$out.tmp/usr/include/elfutils/"
cp "$src"/libelf/elf-knowledge.h "$out.tmp/usr/include/elfutils/" 2>/dev/null || true
cp "$src"/libdw/dwarf.h "$out.tmp/usr/include/"
make -C config libelf.pc libdw.pc > make-config.log 2>&1 || { tail -20 make-config.log >&2; exit 1; }
cp config/libelf.pc config/libdw.pc "$lib/pkgconfig/"
cd "$dir" && rm -rf "$build" "$out" && mv "$out.tmp" "$out"
echo "$out"
