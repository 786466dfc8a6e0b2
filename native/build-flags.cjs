#!/usr/bin/env node
// Compiler and linker flags for binding.gyp, which runs `node native/build-flags.cjs cflags|libs`
// from the package root. pkg-config finds the libraries; VAAT_PKG_CONFIG names another pkg-config
// (a cross build's, a private prefix) and PKG_CONFIG_PATH works as usual.
//
// VAAT_LINK says how the codecs and elfutils are linked:
//   shared  (default) the shared libraries (-lfoo), as a distribution would.
//   static  each from its static archive (lib*.a), so the addon needs nothing but glibc and
//           libstdc++: what the prebuilt binaries use; fails naming the archive that is missing.
//           The archives must hold position-independent code: Debian's codec archives do,
//           its libdw.a/libelf.a do not (scripts/elfutils-pic.sh builds them), so VAAT_LIBDIRS
//           (colon-separated, searched first) names where those are.
// libkdumpfile is never linked: the addon opens it at run time when present
// (native/kdumpfile_loader.cc), so only its headers are needed here.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const HEADERS_ONLY = ['libkdumpfile'];
// Dependents before their dependencies: the order a static link resolves symbols in.
const LINKED = ['libdw', 'libelf', 'lzo2', 'snappy', 'libzstd', 'zlib'];
// Parts of glibc and the toolchain: always shared.
const SYSTEM = new Set(['c', 'm', 'dl', 'rt', 'pthread', 'stdc++', 'gcc_s']);

const pkgConfig = process.env.VAAT_PKG_CONFIG || 'pkg-config';
const mode = process.env.VAAT_LINK || 'shared';

function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
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

// Directories to look for lib*.a in: VAAT_LIBDIRS, pkg-config's -L and libdir, the compiler's own.
function libraryDirs() {
  const dirs = (process.env.VAAT_LIBDIRS || '').split(':');
  dirs.push(...words(run(pkgConfig, ['--static', '--libs-only-L', ...LINKED])).map((w) => w.slice(2)));
  for (const p of LINKED) dirs.push(run(pkgConfig, ['--variable=libdir', p]));
  try {
    const out = execFileSync(process.env.CXX || 'c++', ['-print-search-dirs'], { encoding: 'utf8' });
    const line = out.split('\n').find((l) => l.startsWith('libraries:'));
    if (line) dirs.push(...line.replace(/^libraries: =?/, '').split(':'));
  } catch { /* no compiler answer: pkg-config's directories only */ }
  return [...new Set(dirs.filter(Boolean))];
}

function libs() {
  if (!['static', 'shared'].includes(mode)) fail(`VAAT_LINK=${mode}: use static or shared`);
  const flags = words(run(pkgConfig, [...(mode === 'shared' ? [] : ['--static']), '--libs-only-l', '--libs-only-other', ...LINKED]));
  // dlopen (libkdumpfile) lives in libdl before glibc 2.34; the static build targets 2.34+ only
  if (mode === 'shared') return [...flags, '-ldl'];
  const dirs = libraryDirs();
  const out = ['-Wl,--exclude-libs,ALL'];  // the archives' symbols stay inside the addon
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
  return out;
}

const what = process.argv[2];
if (what === 'cflags') console.log(run(pkgConfig, ['--cflags', ...HEADERS_ONLY, ...LINKED]));
else if (what === 'libs') console.log(libs().join(' '));
else fail('usage: build-flags.cjs cflags|libs');
