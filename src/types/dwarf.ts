/**
 * DWARF types as a TypeInfo, over the compact index native/dwarf.cc extracts from a vmlinux (its
 * layout is documented there). Like BtfTypes, loading only checks the header and section sizes;
 * a type is decoded when first asked for and the name, enumerator and symbol indexes are built on
 * first use. Every offset, count and id read from the index is checked, so a damaged index raises
 * DwarfIndexError instead of answering wrongly.
 *
 * A cached index comes with name-sorted lookup orders (dwarf-orders.ts): then every lookup is a
 * binary search and no Map over the whole index is built.
 *
 * Unlike BTF, DWARF knows every global variable's type (`init_task`, `jiffies`, `cgroup_mutex`),
 * and the index can carry inlined-function pc ranges for the unwinder.
 */
import { VaatError } from '../dump/errors.js';
import { lowerBound, nameOrder, sortedFirst } from '../symbols/name-index.js';
import type { DwarfLookupOrders } from './dwarf-orders.js';
import { TypeLookupError } from './errors.js';
import { canonicalBaseName, nameKey } from './names.js';
import { DERIVED_TYPE_BASE, TypeSource } from './type-source.js';
import type {
  Enumerator, EnumeratorRef, FunctionSymbol, Member, Parameter, TypeDesc, TypeId, VariableSymbol,
} from './typeinfo.js';

/** A DWARF index (or the vmlinux it came from) that fails a check. `code` is the addon's, when it came from there. */
export class DwarfError extends VaatError {
  constructor(message: string, file?: string, readonly code?: string) { super(message, file); }
}
/** The index bytes are damaged, truncated or of another format version. */
export class DwarfIndexError extends DwarfError {}

export const DWARF_INDEX_MAGIC = 'VAATDWF1';
export const DWARF_INDEX_VERSION = 1;
const HEADER = 64, TYPE = 24, ITEM = 16, VAR = 32, FUNC = 24, INLINE = 24;
const NONE = 0xffffffff;

/** Kind codes of the index's type records. */
const enum K { Void, Int, Float, Ptr, Array, Struct, Union, Enum, Fwd, Typedef, Qual, Func }
const F_SIGNED = 1, F_CHAR = 2, F_BOOL = 4, F_VARIADIC = 8;
const V_HAS_SECTION = 8;
const QUALIFIERS = ['const', 'volatile', 'restrict', 'tag'] as const;
const LINKAGE = ['static', 'global', 'extern'] as const;
const CHAR_NAMES = new Set(['char', 'signed char', 'unsigned char']);

export interface DwarfIndexHeader {
  readonly version: number;
  readonly pointerSize: number;
  readonly hasInlines: boolean;
  readonly nTypes: number;
  readonly nItems: number;
  readonly nVars: number;
  readonly nFuncs: number;
  readonly nInlines: number;
  readonly strBytes: number;
  readonly buildId: string | null;
  /** byte offsets of the tables */
  readonly offsets: { readonly types: number; readonly items: number; readonly vars: number; readonly funcs: number; readonly inlines: number; readonly strings: number };
}

/** One inlined-subroutine pc range: `name` was inlined there, `depth` 1 directly into the function. */
export interface InlineRange { readonly low: bigint; readonly high: bigint; readonly name: string; readonly depth: number }

/** Check an index's header and that its tables fill the buffer exactly. */
export function readDwarfIndexHeader(buf: Uint8Array, label = 'DWARF index'): DwarfIndexHeader {
  const bad = (what: string): DwarfIndexError => new DwarfIndexError(`not a usable DWARF index: ${what}`, label);
  if (buf.length < HEADER) throw bad(`${buf.length} bytes, shorter than its ${HEADER}-byte header`);
  const magic = Buffer.from(buf.buffer, buf.byteOffset, 8).toString('latin1');
  if (magic !== DWARF_INDEX_MAGIC) throw bad('bad magic');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u = (off: number): number => v.getUint32(off, true);
  const version = u(8);
  if (version !== DWARF_INDEX_VERSION) throw bad(`format version ${version}, this vaat reads ${DWARF_INDEX_VERSION}`);
  const [pointerSize, flags, nTypes, nItems, nVars, nFuncs, nInlines, strBytes, buildIdOff] =
    [12, 16, 20, 24, 28, 32, 36, 40, 44].map(u);
  if (pointerSize !== 4 && pointerSize !== 8) throw bad(`pointer size ${pointerSize}`);
  if (nTypes < 1) throw bad('no types (not even void)');
  const types = HEADER;
  const items = types + nTypes * TYPE;
  const vars = items + nItems * ITEM;
  const funcs = vars + nVars * VAR;
  const inlines = funcs + nFuncs * FUNC;
  const strings = inlines + nInlines * INLINE;
  if (strings + strBytes !== buf.length) throw bad(`tables need ${strings + strBytes} bytes, the index has ${buf.length}`);
  if (strBytes === 0 || buf[strings] !== 0 || buf[strings + strBytes - 1] !== 0) throw bad('string table does not start and end with NUL');
  let buildId: string | null = null;
  if (buildIdOff !== NONE) {
    if (buildIdOff >= strBytes) throw bad('build-id string out of range');
    const end = buf.indexOf(0, strings + buildIdOff);
    buildId = Buffer.from(buf.buffer, buf.byteOffset + strings + buildIdOff, end - strings - buildIdOff).toString('latin1');
  }
  return {
    version, pointerSize, hasInlines: (flags & 1) !== 0, nTypes, nItems, nVars, nFuncs, nInlines, strBytes, buildId,
    offsets: { types, items, vars, funcs, inlines, strings },
  };
}

export interface DwarfOptions {
  /** names the index in error messages (the vmlinux path, a cache file...) */
  readonly label?: string;
  /** lookup orders for this index (from lookupOrders() or the cache): lengths checked here, entries as lookups read them */
  readonly orders?: DwarfLookupOrders;
}

/**
 * Why `orders` cannot serve lookups in `buf` (an index), or null when their lengths fit its tables.
 * Entries are checked where a lookup reads them (an id out of range or of the wrong kind is a
 * DwarfIndexError), not here: checking ~130k entries up front costs ≈10 ms of unoptimised loops
 * at every start, and the cache checksum already covers the orders with the index.
 */
export function checkDwarfOrders(buf: Uint8Array, orders: DwarfLookupOrders): string | null {
  const h = readDwarfIndexHeader(buf);
  if (orders.vars.length !== h.nVars) return `${orders.vars.length} variables in the order, ${h.nVars} in the index`;
  if (orders.funcs.length !== h.nFuncs) return `${orders.funcs.length} functions in the order, ${h.nFuncs} in the index`;
  if (orders.names.length >= h.nTypes) return `${orders.names.length} named types in the order, ${h.nTypes} types in the index`;
  if (orders.enumTypes.length !== orders.enumIndexes.length || orders.enumTypes.length > h.nItems) return 'enumerator order of a wrong length';
  return null;
}

export class DwarfTypes extends TypeSource {
  readonly source = 'dwarf';
  readonly header: DwarfIndexHeader;
  readonly label: string;
  /** one past the highest valid id (0 is void) */
  readonly typeCount: number;

  readonly #view: DataView;
  /** a plain Uint8Array (its indexOf finds a NUL without a native call) and a Buffer (to decode) */
  readonly #bytes: Uint8Array;
  readonly #buf: Buffer;
  readonly #descs: (TypeDesc | undefined)[];
  readonly #orders: DwarfLookupOrders | null;
  #names: Map<string, TypeId> | null = null;
  #enumerators: Map<string, { type: TypeId; index: number }> | null = null;
  #vars: Map<string, number> | null = null;
  #funcs: Map<string, number> | null = null;
  /** running maximum of high pc over the sorted inline table, for stabbing queries */
  #inlineMaxHigh: BigUint64Array | null = null;

  constructor(buf: Uint8Array, opts: DwarfOptions = {}) {
    super();
    this.label = opts.label ?? 'DWARF index';
    this.header = readDwarfIndexHeader(buf, this.label);
    this.#bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#buf = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.typeCount = this.header.nTypes;
    this.#descs = new Array<TypeDesc | undefined>(this.typeCount);
    const orders = opts.orders ?? null;
    const why = orders && checkDwarfOrders(buf, orders);
    if (why) throw this.#corrupt(`lookup orders: ${why}`);
    this.#orders = orders;
  }

  get pointerSize(): number { return this.header.pointerSize; }
  get buildId(): string | null { return this.header.buildId; }
  get hasInlines(): boolean { return this.header.hasInlines; }

  describe(id: TypeId): TypeDesc {
    const derived = id >= DERIVED_TYPE_BASE ? this.derivedType(id) : undefined;
    if (derived) return derived;
    if (!Number.isInteger(id) || id < 0 || id >= this.typeCount) throw new TypeLookupError(`${this.label}: no type id ${id} (valid: 0..${this.typeCount - 1})`);
    let d = this.#descs[id];
    if (d === undefined) this.#descs[id] = d = this.#decode(id);
    return d;
  }

  findEnumerator(name: string): EnumeratorRef | null {
    const hit = this.#findEnumerator(name);
    if (!hit) return null;
    const t = this.describe(hit.type);
    return t.kind === 'enum' ? { ...t.enumerators[hit.index], enumType: hit.type } : null;
  }

  findFunction(name: string): FunctionSymbol | null {
    const i = this.#orders
      ? sortedFirst(this.#orders.funcs, name, this.#funcName)
      : (this.#funcs ??= this.#indexSymbols(this.header.offsets.funcs, this.header.nFuncs, FUNC)).get(name);
    if (i === undefined) return null;
    const pos = this.header.offsets.funcs + i * FUNC;
    const type = this.#ref(this.#u32(pos + 4), `function ${name}`);
    if (this.describe(type).kind !== 'function') throw this.#corrupt(`function ${name}: type ${type} is not a function type`);
    return { name, type, linkage: this.#linkage(this.#u32(pos + 8), name) };
  }

  findVariable(name: string): VariableSymbol | null {
    const i = this.#orders
      ? sortedFirst(this.#orders.vars, name, this.#varName)
      : (this.#vars ??= this.#indexSymbols(this.header.offsets.vars, this.header.nVars, VAR)).get(name);
    if (i === undefined) return null;
    const pos = this.header.offsets.vars + i * VAR;
    const flags = this.#u32(pos + 8);
    const hasSection = (flags & V_HAS_SECTION) !== 0;
    return {
      name,
      type: this.#ref(this.#u32(pos + 4), `variable ${name}`),
      linkage: this.#linkage(flags, name),
      section: hasSection ? this.#str(this.#u32(pos + 12), `variable ${name}`) : null,
      sectionOffset: hasSection ? Number(this.#view.getBigUint64(pos + 24, true)) : null,
    };
  }

  /** Entry i of the inline table (sorted by low pc), 0 <= i < header.nInlines. */
  inlineRange(i: number): InlineRange {
    if (!Number.isInteger(i) || i < 0 || i >= this.header.nInlines) throw new TypeLookupError(`${this.label}: no inline range ${i} (there are ${this.header.nInlines})`);
    const pos = this.header.offsets.inlines + i * INLINE;
    return { low: this.#view.getBigUint64(pos, true), high: this.#view.getBigUint64(pos + 8, true), name: this.#str(this.#u32(pos + 16), 'inline range'), depth: this.#u32(pos + 20) };
  }

  /** Inlined-subroutine ranges containing `pc`, outermost first; empty without an inlines table. */
  inlinedAt(pc: bigint): InlineRange[] {
    const { nInlines, offsets } = this.header;
    if (nInlines === 0) return [];
    const low = (i: number): bigint => this.#view.getBigUint64(offsets.inlines + i * INLINE, true);
    const high = (i: number): bigint => this.#view.getBigUint64(offsets.inlines + i * INLINE + 8, true);
    if (!this.#inlineMaxHigh) {
      const m = new BigUint64Array(nInlines);
      let max = 0n;
      for (let i = 0; i < nInlines; i++) { const h = high(i); if (h > max) max = h; m[i] = max; }
      this.#inlineMaxHigh = m;
    }
    // Last range starting at or before pc, then back while an earlier range can still reach pc.
    let lo = 0, hi = nInlines;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (low(mid) <= pc) lo = mid + 1; else hi = mid; }
    const out: InlineRange[] = [];
    for (let i = lo - 1; i >= 0 && this.#inlineMaxHigh[i] > pc; i--) {
      if (high(i) > pc) out.push(this.inlineRange(i));
    }
    return out.sort((a, b) => a.depth - b.depth);
  }

  protected lookupName(key: string): TypeId | null {
    if (key === 'void') return 0;
    if (this.#orders) return sortedFirst(this.#orders.names, key, this.#keyOfNamed) ?? null;
    this.#names ??= this.#indexNames();
    return this.#names.get(key) ?? null;
  }

  /**
   * Name-sorted orders of the lookup tables, for the cache: with them a later process looks up by
   * binary search. The first of each key is the entry the Map path picks.
   */
  lookupOrders(): DwarfLookupOrders {
    // definitions, then declarations: nameOrder keeps equal keys in this order
    const defs: number[] = [], decls: number[] = [], defKeys: string[] = [], declKeys: string[] = [];
    for (let id = 1; id < this.typeCount; id++) {
      const key = this.#keyOf(id);
      if (key === null) continue;
      const fwd = this.#bytes[this.header.offsets.types + id * TYPE] === K.Fwd;
      (fwd ? decls : defs).push(id);
      (fwd ? declKeys : defKeys).push(key);
    }
    const ids = defs.concat(decls);
    const names = nameOrder(defKeys.concat(declKeys)).map((k) => ids[k]);
    const symbols = (count: number, nameAt: (i: number) => string): Uint32Array => nameOrder(Array.from({ length: count }, (_, i) => nameAt(i)));
    const enumTypes: number[] = [], enumIndexes: number[] = [], enumNames: string[] = [];
    for (let id = 1; id < this.typeCount; id++) {
      const pos = this.header.offsets.types + id * TYPE;
      if (this.#bytes[pos] !== K.Enum) continue;
      const { first, count } = this.#itemRange(id, pos);
      for (let k = 0; k < count; k++) {
        enumTypes.push(id);
        enumIndexes.push(k);
        enumNames.push(this.#enumeratorName(id, first + k));
      }
    }
    const byName = nameOrder(enumNames);
    const orders: DwarfLookupOrders = {
      names, vars: symbols(this.header.nVars, this.#varName), funcs: symbols(this.header.nFuncs, this.#funcName),
      enumTypes: byName.map((k) => enumTypes[k]), enumIndexes: byName.map((k) => enumIndexes[k]),
    };
    return orders;
  }

  // ---- indexes -------------------------------------------------------------------------------

  /** Struct/union/enum tags, typedefs and base types; a definition beats a declaration. */
  #indexNames(): Map<string, TypeId> {
    const names = new Map<string, TypeId>();
    for (let id = 1; id < this.typeCount; id++) {
      const key = this.#keyOf(id);
      if (key === null) continue;
      const prev = names.get(key);
      if (prev === undefined || (this.#kind(prev) === K.Fwd && this.#kind(id) !== K.Fwd)) names.set(key, id);
    }
    return names;
  }

  /** the key type `id` is filed under in the name index, or null when it is not filed */
  #keyOf(id: TypeId): string | null {
    const pos = this.header.offsets.types + id * TYPE;
    const kind = this.#bytes[pos];
    const nameOff = this.#u32(pos + 4);
    if (nameOff === 0) return null;
    switch (kind) {
      case K.Struct: return nameKey('struct', this.#str(nameOff, `type ${id}`));
      case K.Union: return nameKey('union', this.#str(nameOff, `type ${id}`));
      case K.Enum: return nameKey('enum', this.#str(nameOff, `type ${id}`));
      case K.Fwd: return nameKey(this.#fwdOf(this.#view.getUint16(pos + 2, true), id), this.#str(nameOff, `type ${id}`));
      case K.Typedef: return this.#str(nameOff, `type ${id}`);
      case K.Int: case K.Float: return canonicalBaseName(this.#str(nameOff, `type ${id}`));
      default: return null;
    }
  }

  /** #keyOf for an id read from the name order, which must be a filed type */
  readonly #keyOfNamed = (id: TypeId): string => {
    const key = id < this.typeCount ? this.#keyOf(id) : null;
    if (key === null) throw this.#corrupt(`lookup orders: name entry ${id} is not a named type`);
    return key;
  };
  // entry i of the variable / function table; i < count was checked against the order's length
  // only, so each entry is checked here
  readonly #varName = (i: number): string => this.#symbolName(this.header.offsets.vars, this.header.nVars, VAR, i);
  readonly #funcName = (i: number): string => this.#symbolName(this.header.offsets.funcs, this.header.nFuncs, FUNC, i);

  #symbolName(start: number, count: number, stride: number, i: number): string {
    if (i >= count) throw this.#corrupt(`lookup orders: symbol entry ${i} of ${count}`);
    return this.#str(this.#u32(start + i * stride), `symbol ${i}`);
  }

  #kind(id: TypeId): number { return this.#bytes[this.header.offsets.types + id * TYPE]; }

  #enumeratorName(id: TypeId, item: number): string {
    return this.#str(this.#u32(this.header.offsets.items + item * ITEM), `enum ${id}`);
  }

  #findEnumerator(name: string): { type: TypeId; index: number } | null {
    const o = this.#orders;
    if (!o) {
      this.#enumerators ??= this.#indexEnumerators();
      return this.#enumerators.get(name) ?? null;
    }
    const at = (k: number): string => {
      const id = o.enumTypes[k], index = o.enumIndexes[k];
      const pos = this.header.offsets.types + id * TYPE;
      if (id >= this.typeCount || this.#kind(id) !== K.Enum) throw this.#corrupt(`lookup orders: enumerator entry ${k} names type ${id}, not an enum`);
      const { first, count } = this.#itemRange(id, pos);
      if (index >= count) throw this.#corrupt(`lookup orders: enumerator entry ${k} is past enum ${id}'s ${count}`);
      return this.#enumeratorName(id, first + index);
    };
    const k = lowerBound(o.enumTypes.length, name, at);
    return k < o.enumTypes.length && at(k) === name ? { type: o.enumTypes[k], index: o.enumIndexes[k] } : null;
  }

  #indexEnumerators(): Map<string, { type: TypeId; index: number }> {
    const out = new Map<string, { type: TypeId; index: number }>();
    for (let id = 1; id < this.typeCount; id++) {
      const pos = this.header.offsets.types + id * TYPE;
      if (this.#bytes[pos] !== K.Enum) continue;
      const { first, count } = this.#itemRange(id, pos);
      for (let k = 0; k < count; k++) {
        const name = this.#enumeratorName(id, first + k);
        if (!out.has(name)) out.set(name, { type: id, index: k });
      }
    }
    return out;
  }

  #indexSymbols(start: number, count: number, stride: number): Map<string, number> {
    const out = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const name = this.#symbolName(start, count, stride, i);
      if (!out.has(name)) out.set(name, i);
    }
    return out;
  }

  // ---- decoding one type ---------------------------------------------------------------------

  #decode(id: TypeId): TypeDesc {
    if (id === 0) return VOID;
    const pos = this.header.offsets.types + id * TYPE;
    const kind = this.#bytes[pos];
    const flags = this.#bytes[pos + 1];
    const aux = this.#view.getUint16(pos + 2, true);
    const nameOff = this.#u32(pos + 4);
    const size = this.#u32(pos + 8);
    const ref = this.#u32(pos + 12);
    const name = nameOff === 0 ? null : this.#str(nameOff, `type ${id}`);
    const what = `type ${id}`;
    switch (kind) {
      case K.Int: {
        if (size === 0 || size > 64 || ref === 0 || ref > size * 8) throw this.#corrupt(`${what}: int of ${size} bytes and ${ref} bits`);
        return {
          kind: 'int', id, name, size, bits: ref,
          signed: (flags & F_SIGNED) !== 0, isBool: (flags & F_BOOL) !== 0,
          isChar: (flags & F_CHAR) !== 0 || (size === 1 && name !== null && CHAR_NAMES.has(canonicalBaseName(name))),
        };
      }
      case K.Float:
        if (size === 0 || size > 64) throw this.#corrupt(`${what}: float of ${size} bytes`);
        return { kind: 'float', id, name, size };
      case K.Ptr: return { kind: 'pointer', id, name: null, target: this.#ref(ref, what) };
      case K.Array: return { kind: 'array', id, name: null, element: this.#ref(ref, what), length: size };
      case K.Struct: case K.Union:
        return { kind: kind === K.Struct ? 'struct' : 'union', id, name, size, members: this.#members(id, pos, size) };
      case K.Enum:
        if (![1, 2, 4, 8].includes(size)) throw this.#corrupt(`${what}: enum of ${size} bytes`);
        return { kind: 'enum', id, name, size, signed: (flags & F_SIGNED) !== 0, enumerators: this.#enumeratorsOf(id, pos, (flags & F_SIGNED) !== 0) };
      case K.Fwd: return { kind: 'fwd', id, name, of: this.#fwdOf(aux, id) };
      case K.Typedef:
        if (name === null) throw this.#corrupt(`${what}: typedef without a name`);
        return { kind: 'typedef', id, name, target: this.#ref(ref, what) };
      case K.Qual: {
        const q = QUALIFIERS[aux];
        if (q === undefined) throw this.#corrupt(`${what}: qualifier ${aux}`);
        const target = this.#ref(ref, what);
        // _Atomic does not change layout: a tag, like BTF's type tags.
        return q === 'tag' ? { kind: 'qualifier', id, name: null, qualifier: q, tag: '_Atomic', target } : { kind: 'qualifier', id, name: null, qualifier: q, target };
      }
      case K.Func: {
        const { first, count } = this.#itemRange(id, pos);
        const params: Parameter[] = [];
        for (let k = 0; k < count; k++) {
          const it = this.header.offsets.items + (first + k) * ITEM;
          const pn = this.#u32(it);
          params.push({ name: pn === 0 ? null : this.#str(pn, what), type: this.#ref(this.#u32(it + 4), what) });
        }
        return { kind: 'function', id, name: null, returnType: this.#ref(ref, what), params, variadic: (flags & F_VARIADIC) !== 0 };
      }
      default:
        throw this.#corrupt(`${what}: unknown kind ${kind}`);
    }
  }

  #members(id: TypeId, pos: number, size: number): Member[] {
    const { first, count } = this.#itemRange(id, pos);
    const out: Member[] = [];
    for (let k = 0; k < count; k++) {
      const it = this.header.offsets.items + (first + k) * ITEM;
      const nameOff = this.#u32(it);
      const bitOffset = this.#u32(it + 8), bitSize = this.#u32(it + 12);
      if (bitOffset > size * 8) throw this.#corrupt(`type ${id}: member ${k} at bit ${bitOffset} lies beyond the type's ${size} bytes`);
      out.push({
        name: nameOff === 0 ? null : this.#str(nameOff, `type ${id}`),
        type: this.#ref(this.#u32(it + 4), `type ${id}`),
        offset: Math.floor(bitOffset / 8), bitOffset, bitSize: bitSize === 0 ? null : bitSize,
      });
    }
    return out;
  }

  #enumeratorsOf(id: TypeId, pos: number, signed: boolean): Enumerator[] {
    const { first, count } = this.#itemRange(id, pos);
    const out: Enumerator[] = [];
    for (let k = 0; k < count; k++) {
      const it = this.header.offsets.items + (first + k) * ITEM;
      const raw = (BigInt(this.#u32(it + 12)) << 32n) | BigInt(this.#u32(it + 8));
      out.push({ name: this.#str(this.#u32(it), `type ${id}`), value: signed ? BigInt.asIntN(64, raw) : raw });
    }
    return out;
  }

  #itemRange(id: TypeId, pos: number): { first: number; count: number } {
    const first = this.#u32(pos + 16), count = this.#u32(pos + 20);
    if (first + count > this.header.nItems) throw this.#corrupt(`type ${id}: items ${first}+${count} run past the ${this.header.nItems}-entry table`);
    return { first, count };
  }

  #fwdOf(aux: number, id: TypeId): 'struct' | 'union' | 'enum' {
    const of = (['struct', 'union', 'enum'] as const)[aux];
    if (of === undefined) throw this.#corrupt(`type ${id}: declaration of kind ${aux}`);
    return of;
  }

  #linkage(flags: number, name: string): 'static' | 'global' | 'extern' {
    const l = LINKAGE[flags & 3];
    if (l === undefined) throw this.#corrupt(`symbol ${name}: linkage ${flags & 3}`);
    return l;
  }

  // ---- raw access, every read checked --------------------------------------------------------

  #u32(off: number): number { return this.#view.getUint32(off, true); }

  #str(off: number, what: string): string {
    if (off >= this.header.strBytes) throw this.#corrupt(`${what}: name offset ${off} is past the ${this.header.strBytes}-byte string table`);
    // One name decoded at a time: most runs read a few thousand of the table's ~100k names.
    const start = this.header.offsets.strings + off;
    return this.#buf.toString('utf8', start, this.#bytes.indexOf(0, start)); // the table ends in NUL (checked)
  }

  #ref(id: number, what: string): TypeId {
    if (id >= this.typeCount) throw this.#corrupt(`${what} refers to type id ${id}, but there are only ${this.typeCount}`);
    return id;
  }

  #corrupt(what: string): DwarfIndexError {
    return new DwarfIndexError(`corrupt DWARF index: ${what}`, this.label);
  }
}

const VOID: TypeDesc = Object.freeze({ kind: 'void', id: 0, name: 'void' });

/** Read a DWARF index (from the addon or the cache). */
export function parseDwarfIndex(buf: Uint8Array, opts: DwarfOptions = {}): DwarfTypes {
  return new DwarfTypes(buf, opts);
}
