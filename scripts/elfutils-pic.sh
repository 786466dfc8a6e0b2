#!/usr/bin/env bash
# elfutils' libdw and libelf as static archives of position-independent code, for linking into
# the addon (a shared object). Debian's libdw.a/libelf.a cannot be: they are built for
# executables (initial TLS as local-exec, R_X86_64_TPOFF32). Built from Debian's elfutils source
# (the version of the machine's libdw-dev, checked against the .dsc's SHA-256) with -fPIC, without
# bzip2/lzma (only libdwfl's opening of compressed files uses them; the addon does not).
#   scripts/elfutils-pic.sh x64      native
#   scripts/elfutils-pic.sh arm64    cross, against scripts/arm64-sysroot.sh
# Prints the directory holding libdw.a (libdw + the libdwelf/libdwfl/libebl/libeu parts it calls)
# and libelf.a. Builds once per version, outside the repository.
set -euo pipefail
arch=${1:?usage: elfutils-pic.sh x64|arm64}
dir=${VAAT_CROSS_DIR:-$HOME/.cache/vaat-cross}
ver=0.188 debver=0.188-2.1
out=$dir/elfutils-$ver-$arch
mkdir -p "$dir"
exec 9>"$dir/.elfutils-$arch.lock"
flock 9  # worktrees share the cache: one build at a time
if [ -f "$out/libdw.a" ] && [ -f "$out/libelf.a" ]; then
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
build=$dir/elfutils-build-$arch  # kept until the archives are out, so an interrupted build resumes
mkdir -p "$build"
cd "$build"
conf=(--disable-debuginfod --disable-libdebuginfod --disable-nls --without-valgrind --without-bzlib --without-lzma)
if [ "$arch" = arm64 ]; then
  sysroot=$(bash "$OLDPWD/scripts/arm64-sysroot.sh")
  conf+=(--host=aarch64-linux-gnu CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar RANLIB=aarch64-linux-gnu-ranlib
         "CPPFLAGS=-I$sysroot/usr/include -I$sysroot/usr/include/aarch64-linux-gnu"
         "LDFLAGS=-L$sysroot/usr/lib/aarch64-linux-gnu -L$sysroot/lib/aarch64-linux-gnu")
fi
if [ ! -f configured ]; then
  "$src/configure" "${conf[@]}" CFLAGS="-O2 -g0 -fPIC" CXXFLAGS="-O2 -g0 -fPIC" > configure.log 2>&1 || { tail -20 configure.log >&2; exit 1; }
  touch configured
fi
# libebl opens an architecture's backend (and the backends' disassemblers, libcpu) by machine.
for part in lib:libeu libelf:libelf libebl:libebl backends:libebl_backends libcpu:libcpu libdwelf:libdwelf libdwfl:libdwfl libdw:libdw; do
  d=${part%%:*}
  nice make -C "$d" -j2 "${part##*:}.a" > "make-$d.log" 2>&1 || { tail -20 "make-$d.log" >&2; exit 1; }
done
mkdir -p "$out.tmp"
cp libelf/libelf.a "$out.tmp/"
# One libdw.a, as Debian ships it: libdw calls into libdwelf (build ids, debugaltlink), libdwfl,
# libebl and through it the backends.
{
  echo "CREATE $out.tmp/libdw.a"
  for a in libdw/libdw.a libdwelf/libdwelf.a libdwfl/libdwfl.a libebl/libebl.a backends/libebl_backends.a libcpu/libcpu.a lib/libeu.a; do echo "ADDLIB $a"; done
  echo SAVE; echo END
} | ${AR:-$([ "$arch" = arm64 ] && echo aarch64-linux-gnu-ar || echo ar)} -M
cd "$dir" && rm -rf "$build" "$out" && mv "$out.tmp" "$out"
echo "$out"
