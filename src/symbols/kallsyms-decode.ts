/**
 * Decoding kallsyms tables once their places are known: the token table, the compressed names
 * (first character of each expanded name is the nm type letter) and the address table.
 */
import { VaatError } from '../dump/errors.js';
import { entryLength, type AddressRule, type KallsymsLayout, type TokenTable } from './kallsyms-layout.js';
import type { PageCache } from './page-cache.js';

export class KallsymsDecodeError extends VaatError {}

/** Parse token_table given token_index's 256 offsets; null when the bytes do not have that shape. */
export function parseTokenTable(table: Buffer, index: Uint16Array | readonly number[]): string[] | null {
  const tokens: string[] = new Array(256);
  for (let i = 0; i < 256; i++) {
    const start = index[i];
    const end = table.indexOf(0, start);
    if (end < 0 || end === start) return null;
    if (i < 255 && end + 1 !== index[i + 1]) return null;
    for (let j = start; j < end; j++) if (table[j] < 0x20 || table[j] > 0x7e) return null;
    tokens[i] = table.toString('latin1', start, end);
  }
  return tokens;
}

export function readTokens(cache: PageCache, layout: Pick<KallsymsLayout, 'tokenTable' | 'tokenIndex'>): TokenTable {
  const idxBuf = cache.read(layout.tokenIndex, 512);
  if (!idxBuf) throw new KallsymsDecodeError(`kallsyms_token_index at 0x${layout.tokenIndex.toString(16)} is not in the dump`);
  const index: number[] = [];
  for (let i = 0; i < 256; i++) index.push(idxBuf.readUInt16LE(i * 2));
  // The last token is short; 256 bytes past its start is ample.
  const table = cache.read(layout.tokenTable, index[255] + 256);
  const tokens = table && parseTokenTable(table, index);
  if (!tokens) throw new KallsymsDecodeError(`no valid kallsyms_token_table at 0x${layout.tokenTable.toString(16)}`);
  return tokens;
}

/**
 * Walk `n` name entries from `start` checking only lengths: returns the byte length of the names
 * table, or -1 when it runs off the buffer or (when `markers` is given) an entry 256*k is not
 * at offset markers[k].
 */
export function walkNames(buf: Buffer, start: number, n: number, markers?: ArrayLike<number>): number {
  let off = start;
  for (let i = 0; i < n; i++) {
    if (markers && (i & 0xff) === 0 && markers[i >> 8] !== off - start) return -1;
    if (off >= buf.length) return -1;
    const { len, hdr } = entryLength(buf, off);
    if (len === 0) return -1;
    off += hdr + len;
  }
  return off > buf.length ? -1 : off - start;
}

/** Expand `n` names; `types[i]` is the first expanded character, `names[i]` the rest. */
export function expandNames(buf: Buffer, start: number, n: number, tokens: TokenTable): { names: string[]; types: string[] } {
  const names: string[] = new Array(n);
  const types: string[] = new Array(n);
  let off = start;
  for (let i = 0; i < n; i++) {
    const { len, hdr } = entryLength(buf, off);
    off += hdr;
    let s = '';
    for (let j = 0; j < len; j++) s += tokens[buf[off + j]];
    off += len;
    types[i] = s.charAt(0);
    names[i] = s.slice(1);
  }
  return { names, types };
}

/** The raw address table entries: s32 offsets plus the base, or u64 addresses. */
export interface RawAddresses {
  kind: 'offsets' | 'addresses';
  offsets?: Int32Array;
  addresses?: BigUint64Array;
  relativeBase: bigint;
}

export function readAddressTable(cache: PageCache, table: KallsymsLayout['addressTable'], n: number): RawAddresses | null {
  if (table.kind === 'offsets') {
    const buf = cache.read(table.offsets, n * 4);
    const baseBuf = cache.read(table.relativeBase, 8);
    if (!buf || !baseBuf) return null;
    const offsets = new Int32Array(n);
    for (let i = 0; i < n; i++) offsets[i] = buf.readInt32LE(i * 4);
    return { kind: 'offsets', offsets, relativeBase: baseBuf.readBigUInt64LE(0) };
  }
  const buf = cache.read(table.addresses, n * 8);
  if (!buf) return null;
  const addresses = new BigUint64Array(n);
  for (let i = 0; i < n; i++) addresses[i] = buf.readBigUInt64LE(i * 8);
  return { kind: 'addresses', addresses, relativeBase: 0n };
}

/** the address rules that can apply to a raw table */
export function rulesFor(raw: RawAddresses): AddressRule[] {
  return raw.kind === 'addresses' ? ['absolute'] : ['relative-absolute-percpu', 'relative'];
}

export function decodeAddresses(raw: RawAddresses, rule: AddressRule): BigUint64Array {
  if (raw.addresses) return raw.addresses;
  const offs = raw.offsets!;
  const out = new BigUint64Array(offs.length);
  const base = raw.relativeBase;
  const mask = (1n << 64n) - 1n;
  for (let i = 0; i < offs.length; i++) {
    const o = offs[i];
    let a: bigint;
    if (rule === 'relative') a = base + BigInt(o >>> 0);
    else a = o >= 0 ? BigInt(o) : base - 1n - BigInt(o);
    out[i] = a & mask;
  }
  return out;
}

/** kallsyms is emitted sorted by address: a wrong rule or a wrong table breaks that order */
export function isSorted(addrs: BigUint64Array): boolean {
  for (let i = 1; i < addrs.length; i++) if (addrs[i] < addrs[i - 1]) return false;
  return true;
}
