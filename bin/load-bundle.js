// Loads dist/vaat.cjs, the CLI bundled into one script, with V8's code cache: compiling the
// ~1 MB bundle is ~40 ms of every command (Node 20 keeps no compile cache of its own; 22's
// module.enableCompileCache() does the same). One cache file per command, Node version and
// architecture, `${XDG_CACHE_HOME:-~/.cache}/vaat/code-<node version>-<arch>-<command>.bin`, made
// after the command first ran so it holds the functions that command compiled (one file for
// every command made each deserialize all the others' code): a first line naming the bundle it
// was made from (size and mtime) and the data's CRC-32, then V8's data. V8 checks the data
// against its own version and flags but trusts its contents (damaged data can abort the process
// with "unreachable code"), so data whose CRC-32 fails never reaches it; a cache made from
// another build of the bundle is never used. VAAT_CACHE=off turns it off.
'use strict';
// CommonJS, as bin/vaat.js (bin/package.json). Node's own modules by require: importing node:fs
// as ESM builds a facade that reads every one of its exports (~4 ms of every start).
const { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } = require('node:fs');
const { homedir } = require('node:os');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { isAscii } = require('node:buffer'); // Node 18.15+
const { Script } = require('node:vm');
const { createRequire } = require('node:module');

/**
 * zlib's CRC-32 (Node 20.15+); on an older Node the library's own (src/cache/crc32.ts, an ES
 * module: imported only then, as importing it costs Node's ES module loader at every start)
 */
async function crc32Function() {
  const zlib = require('node:zlib');
  if (typeof zlib.crc32 === 'function') return zlib.crc32;
  return (await import('../dist/src/cache/crc32.js')).crc32;
}

function cacheFile(command) {
  if (process.env.VAAT_CACHE === 'off') return null;
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache');
  return join(base, 'vaat', `code-${process.version.replace(/[^0-9a-z.]/gi, '')}-${process.arch}-${command}.bin`);
}

/** the cached code for this bundle build, or undefined (absent, another build's, damaged) */
function readCode(file, stamp, crc32) {
  if (!file) return undefined;
  let buf;
  try { buf = readFileSync(file); } catch { return undefined; }
  const nl = buf.indexOf(10);
  const head = nl < 0 ? '' : buf.toString('latin1', 0, nl);
  const data = buf.subarray(nl + 1);
  return head === `${stamp} ${crc32(data).toString(16)}` ? data : undefined;
}

/** store V8's code for this bundle (temp file + rename: concurrent commands never see half a file) */
function writeCode(file, stamp, data, crc32) {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, `${stamp} ${crc32(data).toString(16)}\n`);
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch {
    // a cache directory we cannot write only costs speed
    try { rmSync(tmp, { force: true }); } catch { /* nothing was created */ }
  }
}

/** the command a cache file is for: the first argument when it is a plain word, else 'main' (the summary, --help ...) */
function commandOf(argv) {
  const a = argv.find((x) => !x.startsWith('-')) ?? '';
  return /^[a-z][a-z0-9-]{0,31}$/.test(a) ? a : 'main';
}

/**
 * The bundle's exports, and `done()` to call once the command has run: when this command's cache
 * was missing or rejected it stores the code V8 compiled by then (the functions the command
 * used, not only the top level).
 */
async function loadBundle(bundle, argv) {
  const st = statSync(bundle);
  const stamp = `vaat-code 3 ${st.size} ${st.mtimeMs}`;
  const file = cacheFile(commandOf(argv));
  const crc32 = file ? await crc32Function() : null;
  const cachedData = readCode(file, stamp, crc32);
  // the bundle is pure ASCII (scripts/ascii-only.mjs): latin1 reads it as the same string, with
  // no decoding; any other bundle is decoded as UTF-8
  const raw = readFileSync(bundle);
  const source = isAscii?.(raw) ? raw.toString('latin1') : raw.toString('utf8');
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
  // Node 20 refuses import() inside a vm.Script: the bundle's run-time imports (optional
  // packages, resolved from this package as from the bundle; user commands, by file URL) come
  // here (src/dynamic-import.ts)
  globalThis.__vaatImport = (specifier) => import(specifier);
  const bundleModule = { exports: {} };
  script.runInThisContext()(bundleModule.exports, createRequire(pathToFileURL(bundle)), bundleModule, bundle, dirname(bundle));
  const stale = file && (!cachedData || script.cachedDataRejected);
  return {
    exports: bundleModule.exports,
    done() { if (stale) writeCode(file, stamp, script.createCachedData(), crc32); },
  };
}

module.exports = { loadBundle };
