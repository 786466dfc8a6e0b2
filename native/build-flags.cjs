#!/usr/bin/env node
// Compiler and linker flags for binding.gyp, which runs `node native/build-flags.cjs cflags|libs`
// from the package root. pkg-config finds the libraries; VAAT_PKG_CONFIG names another pkg-config
// (a cross build's, a private prefix) and PKG_CONFIG_PATH works as usual.
//
// VAAT_LINK says how the codecs and elfutils are linked:
//   shared  (default) the shared libraries (-lfoo), as a distribution would.
//   static  each from its static archive (lib*.a), so the addon needs nothing but glibc and
//           libstdc++ (nothing but glibc with VAAT_SYSROOT): what the prebuilt binaries use;
//           fails naming the archive that is missing. The archives must hold position-independent
//           code: Debian's codec archives do, its libdw.a/libelf.a do not (scripts/elfutils-pic.sh
//           builds PIC ones into the Debian 11 sysroot); VAAT_LIBDIRS (colon-separated, searched
//           first) names other places to find archives in.
// libkdumpfile is never linked: the addon opens it at run time when present
// (native/kdumpfile_loader.cc), so only its headers are needed here.
//
// VAAT_SYSROOT names a Debian tree to build against instead of this machine's (the prebuilt
// binaries use Debian 11's, scripts/bullseye-sysroot.sh, so they need glibc 2.31 at most): its
// glibc, its GCC's libstdc++ headers and its libraries (pkg-config reads the sysroot's .pc files),
// with libstdc++ and libgcc linked statically from its archives, so that only glibc symbols of
// that release remain. The compiler is this machine's (CXX; a cross compiler for another CPU).
//   node native/build-flags.cjs sysroot-cflags c   the C compiler flags alone, and
//   node native/build-flags.cjs sysroot-ldflags    the linker's (scripts/elfutils-pic.sh)
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const HEADERS_ONLY = ['libkdumpfile'];
// Dependents before their dependencies: the order a static link resolves symbols in.
const LINKED = ['libdw', 'libelf', 'lzo2', 'snappy', 'libzstd', 'zlib'];
// Parts of glibc and the toolchain: always shared.
const SYSTEM = new Set(['c', 'm', 'dl', 'rt', 'pthread', 'stdc++', 'gcc_s']);

const pkgConfig = process.env.VAAT_PKG_CONFIG || 'pkg-config';
const mode = process.env.VAAT_LINK || 'shared';
const sysroot = process.env.VAAT_SYSROOT || '';
const compiler = process.env.CXX || 'c++';

function run(cmd, args, env) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: env && { ...process.env, ...env } }).trim();
  } catch (e) {
    const err = String(e.stderr || e.message).trim();
    fail(`${cmd} ${args.join(' ')} failed: ${err}`);
  }
}

function fail(msg) {
  process.stderr.write(`vaat build: ${msg}\n`);
  process.exit(1);
}

function words(s) {
  return s.split(/\s+/).filter(Boolean);
}

// The sysroot's layout, as Debian lays it out: multiarch directories, one GCC version.
function sysrootLayout() {
  if (!existsSync(join(sysroot, 'usr/include/stdio.h'))) fail(`VAAT_SYSROOT=${sysroot}: no usr/include/stdio.h there`);
  const triple = run(compiler, ['-dumpmachine']);  // x86_64-linux-gnu, aarch64-linux-gnu
  const gccDir = join(sysroot, 'usr/lib/gcc', triple);
  const gcc = existsSync(gccDir) ? readdirSync(gccDir).filter((v) => existsSync(join(gccDir, v, 'libstdc++.a'))) : [];
  if (gcc.length !== 1) fail(`VAAT_SYSROOT=${sysroot}: expected one GCC with libstdc++.a under ${gccDir}, found ${gcc.length}`);
  return { triple, gcc: gcc[0], gccLib: join(gccDir, gcc[0]) };
}

// pkg-config, reading the sysroot's .pc files when there is one (prefixing their paths with it).
function pkg(args) {
  if (!sysroot || process.env.VAAT_PKG_CONFIG) return run(pkgConfig, args);
  const { triple } = sysrootLayout();
  return run(pkgConfig, args, {
    PKG_CONFIG_SYSROOT_DIR: sysroot,
    PKG_CONFIG_LIBDIR: [`usr/lib/${triple}/pkgconfig`, 'usr/share/pkgconfig'].map((d) => join(sysroot, d)).join(':'),
    PKG_CONFIG_PATH: '',
  });
}

// Header search in the sysroot only, in the order GCC searches its own: C++ library, the
// compiler's own headers (stddef.h, intrinsics), then glibc's. Spelled out with -nostdinc because
// a cross compiler's default directories do not move with --sysroot.
function sysrootCflags(lang) {
  const { triple, gcc } = sysrootLayout();
  const inc = join(sysroot, 'usr/include');
  const cxx = lang === 'c' ? [] : ['-nostdinc++', ...[`c++/${gcc}`, `${triple}/c++/${gcc}`, `c++/${gcc}/backward`].map((d) => `-isystem${join(inc, d)}`)];
  const own = run(compiler, ['-print-file-name=include']);
  return [`--sysroot=${sysroot}`, '-nostdinc', ...cxx, `-isystem${own}`, `-isystem${join(inc, triple)}`, `-isystem${inc}`];
}

// Linking against the sysroot: its libraries searched first, its libstdc++.a and libgcc archives
// linked in; libdl and libpthread are separate libraries before glibc 2.34 (dlopen for libkdumpfile).
function sysrootLibs() {
  const { triple, gccLib } = sysrootLayout();
  return [`--sysroot=${sysroot}`, `-B${join(sysroot, 'usr/lib', triple)}/`, ...[gccLib, join(sysroot, 'usr/lib', triple), join(sysroot, 'lib', triple)].map((d) => `-L${d}`),
    '-static-libstdc++', '-static-libgcc'];
}

// Directories to look for lib*.a in: VAAT_LIBDIRS, pkg-config's -L and libdir, the compiler's own.
function libraryDirs() {
  const dirs = (process.env.VAAT_LIBDIRS || '').split(':');
  dirs.push(...words(pkg(['--static', '--libs-only-L', ...LINKED])).map((w) => w.slice(2)));
  // pkg-config's libdir variable is not prefixed with the sysroot
  for (const p of LINKED) dirs.push(join(sysroot, pkg(['--variable=libdir', p])));
  if (sysroot) return [...new Set(dirs.filter(Boolean))];  // never this machine's archives
  try {
    const out = execFileSync(compiler, ['-print-search-dirs'], { encoding: 'utf8' });
    const line = out.split('\n').find((l) => l.startsWith('libraries:'));
    if (line) dirs.push(...line.replace(/^libraries: =?/, '').split(':'));
  } catch { /* no compiler answer: pkg-config's directories only */ }
  return [...new Set(dirs.filter(Boolean))];
}

function libs() {
  if (!['static', 'shared'].includes(mode)) fail(`VAAT_LINK=${mode}: use static or shared`);
  const flags = words(pkg([...(mode === 'shared' ? [] : ['--static']), '--libs-only-l', '--libs-only-other', ...LINKED]));
  // dlopen (libkdumpfile) lives in libdl before glibc 2.34 (a stub library since)
  if (mode === 'shared') return [...(sysroot ? sysrootLibs() : []), ...flags, '-ldl'];
  const dirs = libraryDirs();
  const out = [...(sysroot ? sysrootLibs() : []), '-Wl,--exclude-libs,ALL'];  // the archives' symbols stay inside the addon
  for (const f of flags) {
    const name = f.startsWith('-l') ? f.slice(2) : null;
    if (!name || SYSTEM.has(name)) {
      out.push(f);
      continue;
    }
    const dir = dirs.find((d) => existsSync(join(d, `lib${name}.a`)));
    if (!dir) fail(`VAAT_LINK=static: lib${name}.a not found in ${dirs.join(', ')} (install the -dev package that ships it)`);
    out.push(join(dir, `lib${name}.a`));
  }
  // glibc before 2.34: dlopen in libdl, the pthread functions libstdc++.a calls in libpthread
  if (sysroot) out.push('-Wl,--as-needed', '-ldl', '-lpthread', '-Wl,--no-as-needed');
  return out;
}

const what = process.argv[2];
if (what === 'cflags') {
  // (pkg-config's -I<sysroot>/usr/include would put glibc's headers before libstdc++'s)
  const own = words(pkg(['--cflags', ...HEADERS_ONLY, ...LINKED])).filter((f) => f !== `-I${join(sysroot, 'usr/include')}`);
  console.log([...(sysroot ? sysrootCflags('c++') : []), ...own].join(' '));
}
else if (what === 'libs') console.log(libs().join(' '));
else if (what === 'sysroot-cflags' && sysroot) console.log(sysrootCflags(process.argv[3] || 'c++').join(' '));
else if (what === 'sysroot-ldflags' && sysroot) console.log(sysrootLibs().join(' '));
else fail('usage: build-flags.cjs cflags|libs|sysroot-cflags [c]|sysroot-ldflags (the last two need VAAT_SYSROOT)');
