/**
 * Name-sorted orders of a DWARF index's lookup tables, stored after the index in the type cache.
 * With them a warm start finds a type, variable, function or enumerator by binary search instead
 * of hashing ~130k names into Maps (≈60 ms of every start on a 6.1 kernel). Each order holds every
 * entry of its table, the winner of a key first; the cache file's checksum covers the orders like
 * the index, and DwarfTypes checks their lengths on load and each entry a lookup reads.
 *
 * Stored form: index ‖ zero pad to 8 ‖ names ‖ vars ‖ funcs ‖ enumTypes ‖ enumIndexes (u32 in the
 * machine's byte order, as the kallsyms cache stores its order) ‖ trailer (magic, the four counts,
 * u64 index length).
 */

export interface DwarfLookupOrders {
  /** ids of named tags, typedefs and base types by lookup key, then definitions before declarations, then id */
  readonly names: Uint32Array;
  /** variable / function table entries by name, then entry (the first of a name is its first occurrence) */
  readonly vars: Uint32Array;
  readonly funcs: Uint32Array;
  /** enumerators by name, then enum id and position: the enum's id and the position in it */
  readonly enumTypes: Uint32Array;
  readonly enumIndexes: Uint32Array;
}

const MAGIC = 'VAATDWO1';
const TRAILER = 32;

const pad8 = (n: number): number => (n + 7) & ~7;

/** `index` followed by its orders, the payload of a type cache file */
export function appendDwarfOrders(index: Uint8Array, o: DwarfLookupOrders): Buffer {
  const arrays = [o.names, o.vars, o.funcs, o.enumTypes, o.enumIndexes];
  const start = pad8(index.length);
  const out = Buffer.alloc(start + arrays.reduce((n, a) => n + a.byteLength, 0) + TRAILER);
  out.set(index, 0);
  let at = start;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  out.write(MAGIC, at, 'latin1');
  [o.names.length, o.vars.length, o.funcs.length, o.enumTypes.length].forEach((n, k) => out.writeUInt32LE(n, at + 8 + 4 * k));
  out.writeBigUInt64LE(BigInt(index.length), at + 24);
  return out;
}

/** Split a payload made by appendDwarfOrders; the orders are views into it when aligned. */
export function splitDwarfOrders(payload: Buffer): { index: Buffer; orders: DwarfLookupOrders } | { index: null; why: string } {
  const bad = (why: string) => ({ index: null, why: `lookup orders: ${why}` });
  if (payload.length < TRAILER) return bad('missing');
  const t = payload.length - TRAILER;
  if (payload.toString('latin1', t, t + 8) !== MAGIC) return bad('missing');
  const [nNames, nVars, nFuncs, nEnums] = [0, 1, 2, 3].map((k) => payload.readUInt32LE(t + 8 + 4 * k));
  const indexLength = Number(payload.readBigUInt64LE(t + 24));
  const start = pad8(indexLength);
  const counts = [nNames, nVars, nFuncs, nEnums, nEnums];
  if (start + counts.reduce((n, c) => n + 4 * c, 0) !== t) return bad('sizes do not add up');
  // typed-array views need 4-byte alignment; a payload not so placed is copied once
  const base = (payload.byteOffset + start) % 4 === 0 ? payload : Buffer.from(payload);
  const arrays: Uint32Array[] = [];
  let at = start;
  for (const c of counts) {
    arrays.push(new Uint32Array(base.buffer, base.byteOffset + at, c));
    at += 4 * c;
  }
  const [names, vars, funcs, enumTypes, enumIndexes] = arrays;
  return { index: payload.subarray(0, indexLength), orders: { names, vars, funcs, enumTypes, enumIndexes } };
}
