/**
 * Decoded kallsyms cached per kernel build-id (src/cache/build-id-cache.ts). Every dump of one
 * build has the same symbol table up to the KASLR slide, so the table is stored with the slide it
 * was read at and shifted to each dump's KERNELOFFSET on load. Per-CPU symbols are absolute
 * offsets, not image addresses, and are left as they are. A loaded table must pass the same proof
 * as a fresh decode: VMCOREINFO's own SYMBOL() addresses must match, else the cache is not used.
 */
import { statSync } from 'node:fs';
import { cachePath, readCache, writeCache } from '../cache/build-id-cache.js';
import { wordsView } from '../dump/dump.js';
import { loadNativeOrNull } from '../dump/native.js';
import type { VmcoreInfo } from '../dump/vmcoreinfo.js';
import { KallsymsTable, type KallsymsMethod, type KallsymsProof } from './kallsyms.js';
import { nameOrder, nameStarts, PackedNames } from './name-index.js';
import type { AddressRule, KallsymsLayout } from './kallsyms-layout.js';
import { nowMs } from '../clock.js';

const KIND = 'kallsyms';
/** bump when the payload layout below changes (2: the name order, PackedNames; 3: the name starts) */
const VERSION = 3;
/**
 * x86_64's image lies in the top 2 GiB; below it kallsyms holds per-CPU offsets and absolute
 * values, which KASLR does not move. The fallback when the image's start is unknown (imageBase).
 */
const KERNEL_IMAGE = 0xffffffff80000000n;
const U64 = 0xffffffffffffffffn;
/** the image is placed at a 2 MiB-aligned address (x86_64 and arm64 KASLR both move it in 2 MiB steps) */
const IMAGE_ALIGN = 0x200000n;

/**
 * Where the image starts in the cache's own coordinates: the addresses from there up moved with
 * KASLR. From this dump's VMCOREINFO _stext, less the slide, rounded down to 2 MiB (arm64's _text
 * sits 64 KiB below _stext; x86_64's is _stext). Below it: x86_64's per-CPU offsets. On arm64
 * the image is not in the top 2 GiB: with KERNEL_IMAGE alone nothing moved, the proof failed and
 * every dump at another slide decoded kallsyms afresh and rewrote the cache.
 */
function imageBase(info: VmcoreInfo, delta: bigint): bigint {
  const stext = info.symbol('_stext');
  return stext === undefined ? KERNEL_IMAGE : ((stext - delta) & U64) & ~(IMAGE_ALIGN - 1n);
}

interface Meta {
  kernelOffset: string;
  count: number;
  method: KallsymsMethod;
  rule: AddressRule;
  source: string;
  proof: KallsymsProof;
  layout: KallsymsLayout;
}

// bigints travel through JSON as {"$n": "hex"}
const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? { $n: v.toString(16) } : v);
const reviver = (_k: string, v: unknown) =>
  v && typeof v === 'object' && '$n' in v && typeof (v as { $n: unknown }).$n === 'string' ? BigInt('0x' + (v as { $n: string }).$n) : v;

/** shift image addresses (>= base) inside a JSON-able value by delta */
function shifted<T>(value: T, delta: bigint, base: bigint): T {
  return JSON.parse(JSON.stringify(value, replacer), (k, v) => {
    const r = reviver(k, v);
    return typeof r === 'bigint' && r >= base ? (r + delta) & U64 : r;
  }) as T;
}

export function writeKallsymsCache(table: KallsymsTable, info: VmcoreInfo): string | null {
  const buildId = info.buildId;
  if (!buildId) return null;
  const cols = table.columns();
  const meta: Meta = {
    kernelOffset: info.kernelOffset.toString(16), count: cols.names.length, method: table.method,
    rule: table.rule, source: table.source, proof: table.proof, layout: table.layout,
  };
  const metaBuf = Buffer.from(JSON.stringify(meta, replacer));
  const text = cols.names.join('\0');
  const names = Buffer.from(text);
  const types = Buffer.from(cols.types.join(''), 'latin1');
  // [u32 meta length][meta][u32 names length][names][types], then 8-byte aligned the addresses,
  // the name order (symbol indexes sorted by name) and where each name starts in the decoded
  // text: the reader indexes names without a Map and without searching the text
  const head = 4 + metaBuf.length + 4 + names.length + types.length;
  const pad = (8 - (head % 8)) % 8;
  const order = nameOrder(cols.names);
  const starts = nameStarts(text, cols.names.length);
  const out = Buffer.alloc(head + pad + cols.addresses.byteLength + order.byteLength + starts.byteLength);
  let o = out.writeUInt32LE(metaBuf.length, 0);
  o += metaBuf.copy(out, o);
  o = out.writeUInt32LE(names.length, o);
  o += names.copy(out, o);
  o += types.copy(out, o);
  o += pad;
  for (const col of [cols.addresses, order, starts]) o += Buffer.from(col.buffer, col.byteOffset, col.byteLength).copy(out, o);
  return writeCache(KIND, buildId, VERSION, out);
}

/**
 * Tables already loaded by this process, per cache file (as it was on disk) and slide: a fleet
 * worker, a session or the fuzzer opening many dumps of one build indexes ~90k symbols once.
 */
const loaded = new Map<string, { table: KallsymsTable; matched: string[] }>();

/** the cached table shifted to this dump's KASLR slide, or null (cache absent, damaged, or failing the proof) */
export function readKallsymsCache(info: VmcoreInfo): KallsymsTable | null {
  const buildId = info.buildId;
  if (!buildId) return null;
  const file = cachePath(KIND, buildId);
  let key: string | undefined;
  try {
    const st = file ? statSync(file) : undefined;
    if (st) key = `${file}\0${st.ino}\0${st.size}\0${st.mtimeMs}\0${info.kernelOffset}`;
  } catch { /* no cache file: readCache says so below */ }
  const memo = key ? loaded.get(key) : undefined;
  // the same proof as below, against this dump's VMCOREINFO
  if (memo) return memo.matched.length && memo.matched.every((name) => { const want = info.symbol(name); return want !== undefined && memo.table.lookup(name)?.address === want; }) ? memo.table : null;
  const table = readCacheFile(info, buildId);
  if (table && key) {
    if (loaded.size >= 8) loaded.delete(loaded.keys().next().value!);
    loaded.set(key, { table, matched: table.proof.matched });
  }
  return table;
}

/**
 * Adds delta (mod 2^64) to every image address (>= base) in place, on the 32-bit halves of the
 * addresses (little-endian, as SortedSymbolTable reads them): a BigInt sum per symbol took
 * ~12 ms for a kernel's 140,000 at every start of a dump with another KASLR offset than the cache's.
 * The addon's shiftAbove does the same where it has it.
 */
function shiftImage(addresses: BigUint64Array, delta: bigint, base: bigint): void {
  const native = loadNativeOrNull();
  if (native?.shiftAbove) return native.shiftAbove(addresses, delta & U64, base & U64);
  const w = new Uint32Array(addresses.buffer, addresses.byteOffset, addresses.length * 2);
  const dlo = Number(delta & 0xffffffffn);
  const dhi = Number((delta >> 32n) & 0xffffffffn);
  const blo = Number(base & 0xffffffffn);
  const bhi = Number((base >> 32n) & 0xffffffffn);
  for (let i = 0; i < w.length; i += 2) {
    const lo = w[i];
    const hi = w[i + 1];
    if (hi < bhi || (hi === bhi && lo < blo)) continue; // below the image
    const sum = lo + dlo;
    w[i] = sum >>> 0;
    w[i + 1] = (hi + dhi + (sum > 0xffffffff ? 1 : 0)) >>> 0;
  }
}

/**
 * `count` elements at byte `at` of the cache's buffer: a view where they are aligned in its
 * memory (the addon reads cache files into 2 MiB-aligned memory, and the payload keeps them
 * 8-aligned), else a copy. A view is written to only by shiftImage, and the buffer is this
 * read's own.
 */
function columnOf<T extends BigUint64Array | Uint32Array>(Kind: { new(b: ArrayBufferLike, off: number, n: number): T; new(n: number): T; BYTES_PER_ELEMENT: number }, buf: Buffer, at: number, count: number): T {
  const view = wordsView(Kind, buf, at, count);
  if (view) return view;
  const out = new Kind(count);
  Buffer.from(out.buffer).set(buf.subarray(at, at + count * Kind.BYTES_PER_ELEMENT));
  return out;
}

function readCacheFile(info: VmcoreInfo, buildId: string): KallsymsTable | null {
  const t0 = nowMs();
  const hit = readCache(KIND, buildId, VERSION);
  if (!hit.data) return null;
  try {
    const buf = hit.data;
    const metaLen = buf.readUInt32LE(0);
    const meta = JSON.parse(buf.toString('utf8', 4, 4 + metaLen), reviver) as Meta;
    let o = 4 + metaLen;
    const namesLen = buf.readUInt32LE(o);
    o += 4;
    const text = buf.subarray(o, o + namesLen);
    o += namesLen;
    const n = meta.count;
    const types = buf.toString('latin1', o, o + n); // one letter per symbol, indexed, never split
    o += n;
    o += (8 - (o % 8)) % 8;
    if (types.length !== n || o + n * 16 + 4 !== buf.length) return null;
    const addresses = columnOf(BigUint64Array, buf, o, n);
    const order = columnOf(Uint32Array, buf, o + n * 8, n);
    const starts = columnOf(Uint32Array, buf, o + n * 12, n + 1);
    const names = PackedNames.fromBytes(text, order, starts); // throws unless they hold n names
    const delta = (info.kernelOffset - BigInt('0x' + meta.kernelOffset)) & U64;
    const base = imageBase(info, delta);
    if (delta !== 0n) shiftImage(addresses, delta, base);
    const proof = shifted(meta.proof, delta, base);
    const table = new KallsymsTable(`${meta.source.replace(/\)$/, '')}; from cache ${hit.file})`, { names, types, addresses },
      meta.method, shifted(meta.layout, delta, base), meta.rule, proof, nowMs() - t0, 0, true);
    // the same proof a fresh decode must pass: VMCOREINFO's symbols are where the table says
    for (const name of meta.proof.matched) {
      const want = info.symbol(name);
      if (want === undefined || table.lookup(name)?.address !== want) return null;
    }
    return meta.proof.matched.length ? table : null;
  } catch {
    return null;
  }
}
