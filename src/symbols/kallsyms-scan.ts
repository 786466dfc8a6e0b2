/**
 * Finding the kallsyms tables in the kernel image's read-only data by their shape, for kernels
 * whose VMCOREINFO does not list them (the SYMBOL(kallsyms_*) lines came with upstream's
 * "vmcoreinfo: include kallsyms symbols", 2023; distributions backport it unevenly — Debian's
 * 6.1.190 has it, plain 6.1 does not).
 *
 * Signatures used (see kallsyms-layout.ts for the per-version order):
 *  1. kallsyms_token_index: 256 u16, the first 0, strictly ascending by 2..256 (every token is
 *     at least one character plus its NUL), directly after kallsyms_token_table whose 256
 *     NUL-terminated printable strings end exactly at those offsets.
 *  2. kallsyms_markers: below the token table (directly, or past seqs_of_names in 6.2–6.3):
 *     [0, m1, m2, ...] ascending by 512..~150k (256 names of 2..~600 bytes each).
 *  3. kallsyms_num_syms = N with ceil(N/256) markers, directly before kallsyms_names; walking N
 *     names from there must hit every marker and end where the markers begin.
 * The address table is then a short list of candidates, settled by the caller's proof.
 */
import { VaatError } from '../dump/errors.js';
import type { KallsymsLayout } from './kallsyms-layout.js';
import { parseTokenTable, walkNames } from './kallsyms-decode.js';
import { PAGE, type PageCache } from './page-cache.js';

export interface ScanOptions {
  /** start of the kernel image (VMCOREINFO _stext) */
  imageStart: bigint;
  /** bytes above imageStart to consider (default 64 MiB) */
  limit?: number;
  /**
   * an address known to be above .rodata (e.g. a data symbol from VMCOREINFO). The scan walks
   * down from here first, since .rodata ends just below .data on x86_64 and the tables sit there.
   */
  pivot?: bigint;
  /** bytes per batched read (default 1 MiB) */
  chunk?: number;
}

export type ScannedLayout = Omit<KallsymsLayout, 'addressTable' | 'order'>;

export interface ScanResult {
  layout: ScannedLayout;
  /** address-table placements to try, most likely first */
  addressCandidates: Pick<KallsymsLayout, 'addressTable' | 'order'>[];
  /** bytes scanned before the token index turned up */
  scannedBytes: number;
}

export class KallsymsNotFoundError extends VaatError {}

const MAX_TOKEN_STEP = 256;
/** largest compressed name entry: KSYM_NAME_LEN (512 since 6.1) plus a 2-byte length */
const MAX_ENTRY = 514;
const MIN_MARKER_STEP = 2 * 256;
const MAX_MARKER_STEP = MAX_ENTRY * 256;

export function scanKallsyms(cache: PageCache, opts: ScanOptions): ScanResult {
  const lo = opts.imageStart & ~BigInt(PAGE - 1);
  const hi = lo + BigInt(opts.limit ?? 64 * 1024 * 1024);
  const chunk = opts.chunk ?? 1024 * 1024;
  let pivot = opts.pivot !== undefined && opts.pivot > lo && opts.pivot < hi ? opts.pivot : hi;
  pivot = (pivot + BigInt(PAGE - 1)) & ~BigInt(PAGE - 1);

  let scanned = 0;
  const tryChunk = (start: bigint, len: number): ScanResult | 'holes' | undefined => {
    // one extra page so a token index straddling the chunk's end is still seen whole
    const { buf, holes } = cache.region(start, len + PAGE);
    scanned += len;
    if (holes * PAGE >= len + PAGE) return 'holes';
    for (const off of tokenIndexCandidates(buf, len)) {
      const found = fromTokenIndex(cache, start + BigInt(off), buf, off);
      if (found) return { ...found, scannedBytes: scanned };
    }
    return undefined;
  };

  // Downwards from the pivot to the image start ...
  for (let end = pivot; end > lo; ) {
    const start = end - BigInt(chunk) > lo ? end - BigInt(chunk) : lo;
    const r = tryChunk(start, Number(end - start));
    if (r && r !== 'holes') return r;
    end = start;
  }
  // ... then upwards from the pivot until the image ends (a chunk with no page present).
  for (let start = pivot; start < hi; start += BigInt(chunk)) {
    const len = Math.min(chunk, Number(hi - start));
    const r = tryChunk(start, len);
    if (r === 'holes') break;
    if (r) return r;
  }
  throw new KallsymsNotFoundError(
    `no kallsyms tables in the ${scanned} bytes scanned from 0x${lo.toString(16)} (token index signature not found or not confirmed)`,
  );
}

/** offsets in buf[0, len) where a token_index could start (4-aligned, as scripts/kallsyms aligns labels) */
function* tokenIndexCandidates(buf: Buffer, len: number): Generator<number> {
  const limit = Math.min(len, buf.length - 512);
  for (let off = 0; off < limit; off += 4) {
    if (buf[off] !== 0 || buf[off + 1] !== 0) continue;
    let prev = 0;
    let k = 1;
    for (; k < 256; k++) {
      const v = buf.readUInt16LE(off + 2 * k);
      const d = v - prev;
      if (d < 2 || d > MAX_TOKEN_STEP) break;
      prev = v;
    }
    if (k === 256) yield off;
  }
}

function fromTokenIndex(cache: PageCache, tokenIndex: bigint, buf: Buffer, off: number): Omit<ScanResult, 'scannedBytes'> | undefined {
  const index: number[] = [];
  for (let i = 0; i < 256; i++) index.push(buf.readUInt16LE(off + 2 * i));
  const tokenTable = findTokenTable(cache, tokenIndex, index);
  if (tokenTable === undefined) return undefined;
  const names = findNamesBelow(cache, tokenTable);
  if (!names) return undefined;

  const n = names.numSyms;
  const markersEnd = names.markers + BigInt(names.markerCount * names.markerWidth);
  // 6.2–6.3: seqs_of_names (3 bytes per symbol) fills the gap up to the token table
  // (labels are aligned to 8 or 4 bytes depending on the kernel's scripts/kallsyms.c)
  const gap = tokenTable - markersEnd;
  let seqsOfNames: bigint | undefined;
  if (gap >= BigInt(3 * n) && gap < BigInt(3 * n + 16)) {
    seqsOfNames = align(markersEnd, 8) + BigInt(3 * n) <= tokenTable ? align(markersEnd, 8) : align(markersEnd, 4);
  }

  const layout: ScannedLayout = {
    numSyms: n,
    numSymsAt: names.numSymsAt,
    names: names.names,
    markers: names.markers,
    markerWidth: names.markerWidth,
    ...(seqsOfNames !== undefined ? { seqsOfNames } : {}),
    tokenTable,
    tokenIndex,
  };
  return { layout, addressCandidates: addressCandidates(names.numSymsAt, tokenIndex + 512n, n) };
}

function align(a: bigint, to: number): bigint {
  const m = BigInt(to - 1);
  return (a + m) & ~m;
}

/** token_table start: the 256 strings must end exactly at index[i+1]-1 and the last one just before token_index */
function findTokenTable(cache: PageCache, tokenIndex: bigint, index: readonly number[]): bigint | undefined {
  const span = index[255] + 2 + 64 + 8; // last token up to 64 chars, up to 8 bytes of alignment
  const from = tokenIndex - BigInt(span);
  const buf = cache.read(from, span);
  if (!buf) return undefined;
  for (let t = span - index[255] - 2; t >= 0; t--) {
    const tokens = parseTokenTable(buf.subarray(t), index);
    if (!tokens) continue;
    const end = t + index[255] + tokens[255].length + 1;
    if (span - end < 0 || span - end >= 8) continue;
    if (buf.subarray(end, span).some((b) => b !== 0)) continue;
    return from + BigInt(t);
  }
  return undefined;
}

interface NamesFind {
  numSyms: number;
  numSymsAt: bigint;
  names: bigint;
  markers: bigint;
  markerWidth: 4 | 8;
  markerCount: number;
}

/** search the window below the token table for markers, then num_syms + names that fit them */
function findNamesBelow(cache: PageCache, tokenTable: bigint): NamesFind | undefined {
  // markers sit directly below the token table, or below seqs_of_names (3 bytes/symbol; 4M symbols is beyond any kernel)
  for (const win of [1 << 20, 16 << 20]) {
    const start = (tokenTable - BigInt(win)) & ~BigInt(PAGE - 1);
    const { buf } = cache.region(start, Number(tokenTable - start));
    const top = Number(tokenTable - start);
    for (let q = (top - 8) & ~3; q >= 0; q -= 4) {
      if (buf.readUInt32LE(q) !== 0) continue;
      for (const width of [4, 8] as const) {
        const m = markerRun(buf, q, width, top);
        if (m.length < 2) continue;
        for (let drop = 0; drop <= 2 && m.length - drop >= 2; drop++) {
          const markers = m.slice(0, m.length - drop);
          const r = namesForMarkers(cache, start + BigInt(q), markers);
          if (r) return { ...r, markers: start + BigInt(q), markerWidth: width, markerCount: markers.length };
        }
      }
    }
  }
  return undefined;
}

function markerRun(buf: Buffer, q: number, width: 4 | 8, top: number): number[] {
  const out: number[] = [0];
  let prev = 0;
  for (let o = q + width; o + width <= top; o += width) {
    if (width === 8 && buf.readUInt32LE(o + 4) !== 0) break;
    const v = buf.readUInt32LE(o);
    const d = v - prev;
    if (d < MIN_MARKER_STEP || d > MAX_MARKER_STEP) break;
    out.push(v);
    prev = v;
  }
  if (width === 8 && buf.readUInt32LE(q + 4) !== 0) return [];
  return out;
}

/** find num_syms N (ceil(N/256) = markers.length) directly before a names table that the markers describe */
function namesForMarkers(cache: PageCache, markersAt: bigint, markers: number[]): Omit<NamesFind, 'markers' | 'markerWidth' | 'markerCount'> | undefined {
  const mCount = markers.length;
  const last = markers[mCount - 1];
  // the names table starts `last` bytes plus 1..256 entries before the markers
  const winLo = markersAt - BigInt(last + 256 * MAX_ENTRY + 16);
  const winStart = winLo & ~BigInt(PAGE - 1);
  const size = Number(markersAt - winStart);
  const buf = cache.read(winStart, size) ?? cache.region(winStart, size).buf;
  const top = size;
  const hiP = top - last - 2 - 4;
  const nMin = 256 * (mCount - 1) + 1;
  const nMax = 256 * mCount;
  for (let p = hiP & ~3; p >= 0 && p >= hiP - 256 * MAX_ENTRY - 8; p -= 4) {
    const n = buf.readUInt32LE(p);
    if (n < nMin || n > nMax) continue;
    for (const s of [p + 4, p + 8]) {
      if (s === p + 8 && buf.readUInt32LE(p + 4) !== 0) continue;
      const len = walkNames(buf, s, n, markers);
      if (len < 0) continue;
      const pad = top - (s + len);
      if (pad < 0 || pad >= 8 || buf.subarray(s + len, top).some((b) => b !== 0)) continue;
      return { numSyms: n, numSymsAt: winStart + BigInt(p), names: winStart + BigInt(s) };
    }
  }
  return undefined;
}

/** where the address table can be, relative to num_syms (≤6.3) or to the end of token_index (6.4+) */
function addressCandidates(numSymsAt: bigint, tokenIndexEnd: bigint, n: number): Pick<KallsymsLayout, 'addressTable' | 'order'>[] {
  const out: Pick<KallsymsLayout, 'addressTable' | 'order'>[] = [];
  const seen = new Set<string>();
  const add = (c: Pick<KallsymsLayout, 'addressTable' | 'order'>): void => {
    const key = JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v));
    if (!seen.has(key)) { seen.add(key); out.push(c); }
  };
  const n4 = BigInt(4 * n);
  const n8 = BigInt(8 * n);
  // ≤6.3: offsets[N] (s32), relative_base (u64, 8-aligned), then num_syms
  for (const relativeBase of [(numSymsAt - 8n) & ~7n, numSymsAt - 8n]) {
    for (const pad of [0n, 4n]) {
      add({ order: 'offsets-first', addressTable: { kind: 'offsets', offsets: relativeBase - n4 - pad, relativeBase } });
    }
  }
  // 6.4+: offsets right after token_index, relative_base after them
  // (labels are .balign 8 in older scripts/kallsyms output, 4 in some; try both)
  for (const offsets of [align(tokenIndexEnd, 4), align(tokenIndexEnd, 8)]) {
    for (const a of [8, 4]) add({ order: 'offsets-last', addressTable: { kind: 'offsets', offsets, relativeBase: align(offsets + n4, a) } });
  }
  // CONFIG_KALLSYMS_BASE_RELATIVE=n: kallsyms_addresses[N] (u64)
  for (const pad of [0n, 4n]) add({ order: 'offsets-first', addressTable: { kind: 'addresses', addresses: ((numSymsAt - n8) & ~7n) - pad } });
  add({ order: 'offsets-last', addressTable: { kind: 'addresses', addresses: align(tokenIndexEnd, 8) } });
  return out;
}
