/**
 * Symbol tables: name → address and address → name over one source (kallsyms, a System.map,
 * VMCOREINFO, a module's own symtab). Every source is reduced to a sorted array searched by
 * binary search; a symbol's size is the distance to the next symbol at a higher address, as the
 * kernel's own kallsyms_lookup() computes it.
 */
import { loadNativeOrNull } from '../dump/native.js';
import { MappedNames, type NameColumn } from './name-index.js';

export interface KernelSymbol {
  name: string;
  address: bigint;
  /** nm-style type letter: T/t text, D/d data, B/b bss, R/r rodata, A/a absolute, W/w weak ... */
  type: string;
  /** the loaded module the symbol belongs to; undefined for the core kernel */
  module?: string;
  /** bytes up to the next symbol (or the end of the symbol's region); undefined when unknown */
  size?: number;
}
/** The brief's name for a symbol; `KernelSymbol` inside the library avoids shadowing the global. */
export type { KernelSymbol as Symbol };

export interface Symbolized {
  name: string;
  /** address of the symbol itself */
  address: bigint;
  /** bytes from the symbol's start to the looked-up address */
  offset: number;
  /** the symbol's size (0 when unknown: then only exact hits are reported) */
  size: number;
  module?: string;
}

export interface SymbolTable {
  /** how the table was obtained, e.g. 'kallsyms (rodata-scan; proof: _stext, prb)' */
  readonly source: string;
  /** the first symbol of that name (kallsyms order: the one the kernel itself would return) */
  lookup(name: string): KernelSymbol | undefined;
  /** the symbol containing addr, or undefined when addr lies in no symbol's extent */
  symbolize(addr: bigint): Symbolized | undefined;
  all(): Iterable<KernelSymbol>;
}

export interface SortedTableOptions {
  /**
   * 'next': a symbol extends to the next higher address (kallsyms, System.map);
   * 'given': use each symbol's own `size` (module symtabs); 'exact': only exact addresses match
   * (VMCOREINFO: a handful of unrelated addresses, distances between them mean nothing).
   */
  sizes: 'next' | 'given' | 'exact';
  /** end (exclusive) of the last symbol's extent when sizes = 'next' */
  end?: bigint;
  /**
   * The columns become the table's own and are not copied (the caller made them for it and
   * keeps no reference): the kallsyms cache's 140k addresses, whose copy cost ~300 first-touch
   * page faults at every start.
   */
  adopt?: boolean;
}

/** A source's symbols as parallel columns: how kallsyms decodes them, and cheap to sort and index. */
export interface SymbolColumns {
  /** an array, or names already indexed (the kallsyms cache's PackedNames) */
  names: readonly string[] | NameColumn;
  /** one type letter per symbol: an array, or one string of them (the kallsyms cache's, unsplit) */
  types: readonly string[] | string;
  addresses: BigUint64Array;
  modules?: readonly (string | undefined)[];
  /** per-symbol sizes, for sizes: 'given' */
  sizes?: readonly (number | undefined)[];
}

/** the first i whose address is below its predecessor's, or -1 (in the addon where it has this: see native.ts) */
function firstDescent(addrs: BigUint64Array, words: Uint32Array): number {
  const native = loadNativeOrNull();
  if (native?.firstDescent) return native.firstDescent(addrs);
  for (let i = 1; i < addrs.length; i++) if (cmp(words, i - 1, words, i) > 0) return i;
  return -1;
}

/**
 * One source's symbols, sorted by address (stable: aliases keep the source's order). Stored as
 * columns rather than one object per symbol: a kernel has ~90k symbols, and building objects and
 * doing bigint arithmetic for each of them cost more than decoding kallsyms itself. Addresses
 * are compared through a 32-bit view of the BigUint64Array (hi, lo), which allocates nothing.
 */
export class SortedSymbolTable implements SymbolTable {
  readonly #names: NameColumn;
  readonly #types: ArrayLike<string>;
  readonly #modules: (string | undefined)[] | null;
  readonly #addrs: BigUint64Array;
  readonly #words: Uint32Array; // little-endian halves of #addrs: lo at 2i, hi at 2i+1
  readonly #sizeRule: SortedTableOptions['sizes'];
  /** sizes: 'given': each symbol's own size */
  readonly #given: (number | undefined)[] | null;
  /** sizes: 'next': the end of the last symbol's extent, as (lo, hi) halves */
  readonly #end: Uint32Array | null;

  constructor(readonly source: string, symbols: readonly KernelSymbol[] | SymbolColumns, opts: SortedTableOptions) {
    const cols: SymbolColumns = Array.isArray(symbols) ? toColumns(symbols as readonly KernelSymbol[]) : (symbols as SymbolColumns);
    const n = cols.names.length;
    const words = new Uint32Array(cols.addresses.buffer, cols.addresses.byteOffset, n * 2);
    // Array.prototype.sort is stable, so symbols at one address stay in the source's order and
    // the first of them is the one the kernel prints (scripts/kallsyms.c orders aliases so).
    // kallsyms and `nm -n` maps arrive sorted already, so the sort is usually skipped.
    const order = firstDescent(cols.addresses.subarray(0, n), words) < 0 ? null
      : Array.from({ length: n }, (_, k) => k).sort((a, b) => cmp(words, a, words, b));
    const adopt = opts.adopt === true;
    const pick = <T>(col: readonly T[]): T[] => (order ? order.map((k) => col[k]) : adopt ? (col as T[]) : col.slice());
    const names = cols.names;
    if (!isArray(names)) this.#names = order ? new MappedNames(order.map((k) => names.at(k))) : names;
    else this.#names = new MappedNames(pick(names));
    const types = cols.types;
    this.#types = typeof types === 'string' ? (order ? order.map((k) => types[k]).join('') : types) : pick(types);
    this.#modules = cols.modules ? pick(cols.modules) : null;
    this.#addrs = order ? BigUint64Array.from(order, (k) => cols.addresses[k]) : adopt ? cols.addresses : cols.addresses.slice();
    this.#words = new Uint32Array(this.#addrs.buffer, this.#addrs.byteOffset, n * 2);
    this.#sizeRule = opts.sizes;
    const given = cols.sizes;
    this.#given = opts.sizes === 'given' && given ? (order ? order.map((k) => given[k]) : given.slice()) : null;
    this.#end = opts.sizes === 'next' && opts.end !== undefined ? new Uint32Array(BigUint64Array.of(opts.end).buffer) : null;
  }

  /**
   * Symbol i's size, found when asked: most commands look up a few names and symbolize a few
   * thousand addresses, so sizing all ~140k kallsyms symbols up front (a Float64Array of them)
   * was work and first-touch page faults at every start for nothing.
   */
  #sizeAt(i: number): number {
    if (this.#sizeRule === 'given') return this.#given?.[i] ?? 0;
    if (this.#sizeRule !== 'next') return 0;
    // 'next': up to the next *different* address (aliases share their extent), else the end
    const w = this.#words;
    const n = this.#addrs.length;
    let j = i + 1;
    while (j < n && cmp(w, j, w, i) === 0) j++;
    if (j < n) return diff(w, j, w, i);
    const e = this.#end;
    return e && cmp(e, 0, w, i) > 0 ? diff(e, 0, w, i) : 0;
  }

  get count(): number { return this.#names.length; }

  /** the table's symbols as columns, in address order (for caching) */
  columns(): { names: string[]; types: string[]; addresses: BigUint64Array } {
    return { names: Array.from({ length: this.#names.length }, (_, i) => this.#names.at(i)), types: Array.from(this.#types), addresses: this.#addrs.slice() };
  }

  /** each name this table holds exactly once, with its address, in address order */
  *uniqueNames(): Iterable<[string, bigint]> {
    for (const [name, i] of this.#names.uniques()) yield [name, this.#addrs[i]];
  }

  /** the address of a name this table holds exactly once; null when it repeats, undefined when absent */
  uniqueAddress(name: string): bigint | null | undefined {
    if (this.#names.repeats(name)) return null;
    const i = this.#names.first(name);
    return i === undefined ? undefined : this.#addrs[i];
  }
  /** lowest and highest symbol address (undefined when empty) */
  get range(): { first: bigint; last: bigint } | undefined {
    const n = this.#addrs.length;
    return n === 0 ? undefined : { first: this.#addrs[0], last: this.#addrs[n - 1] };
  }

  #symbol(i: number): KernelSymbol {
    const mod = this.#modules?.[i];
    return {
      name: this.#names.at(i),
      address: this.#addrs[i],
      type: this.#types[i],
      size: this.#sizeAt(i),
      ...(mod !== undefined ? { module: mod } : {}),
    };
  }

  lookup(name: string): KernelSymbol | undefined {
    const i = this.#names.first(name);
    return i === undefined ? undefined : this.#symbol(i);
  }

  /** every symbol of that name (static functions repeat across files) */
  lookupAll(name: string): KernelSymbol[] {
    return this.#names.every(name).map((i) => this.#symbol(i));
  }

  symbolize(addr: bigint): Symbolized | undefined {
    const w = this.#words;
    const key = new Uint32Array(BigUint64Array.of(addr).buffer);
    // last index with a[i] <= addr
    let lo = 0;
    let hi = this.#addrs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(w, mid, key, 0) <= 0) lo = mid + 1;
      else hi = mid;
    }
    let i = lo - 1;
    if (i < 0) return undefined;
    while (i > 0 && cmp(w, i - 1, w, i) === 0) i--; // first alias: the kernel's choice
    const offset = diff(key, 0, w, i);
    const size = this.#sizeAt(i);
    if (offset === 0 || (this.#sizeRule !== 'exact' && offset < size)) {
      const mod = this.#modules?.[i];
      return { name: this.#names.at(i), address: this.#addrs[i], offset, size, ...(mod !== undefined ? { module: mod } : {}) };
    }
    return undefined;
  }

  *all(): Iterable<KernelSymbol> {
    for (let i = 0; i < this.#names.length; i++) yield this.#symbol(i);
  }

  /** the symbols whose name contains any of `parts`, in address order; no object is made for the others */
  *containing(parts: readonly string[]): Iterable<KernelSymbol> {
    for (const i of this.#names.containing(parts)) yield this.#symbol(i);
  }
}

const isArray = (names: readonly string[] | NameColumn): names is readonly string[] => Array.isArray(names);

function toColumns(syms: readonly KernelSymbol[]): SymbolColumns {
  return {
    names: syms.map((s) => s.name),
    types: syms.map((s) => s.type),
    addresses: BigUint64Array.from(syms, (s) => s.address),
    modules: syms.some((s) => s.module !== undefined) ? syms.map((s) => s.module) : undefined,
    sizes: syms.map((s) => s.size),
  };
}

/** compare 64-bit values held as (lo, hi) u32 pairs at index i of a and j of b */
function cmp(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  const ah = a[2 * i + 1], bh = b[2 * j + 1];
  if (ah !== bh) return ah < bh ? -1 : 1;
  const al = a[2 * i], bl = b[2 * j];
  return al === bl ? 0 : al < bl ? -1 : 1;
}

/** a[i] - b[j] as a number (callers ensure a[i] >= b[j] and the gap is far below 2^53) */
function diff(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  return (a[2 * i + 1] - b[2 * j + 1]) * 0x1_0000_0000 + (a[2 * i] - b[2 * j]);
}

/** `func+0x1a/0x40 [module]` as the kernel prints %pS; the bare hex address when unknown. */
export function formatSymbol(table: SymbolTable, addr: bigint): string {
  return render(table.symbolize(addr), addr, 0);
}

/**
 * A return address as the kernel's stack dumps print it (%pB): looked up at addr-1, so a call
 * that is the last instruction of a function (a noreturn callee) is attributed to the caller,
 * not to whatever follows it — hence lines like `func+0x30/0x30`.
 */
export function formatReturnAddress(table: SymbolTable, addr: bigint): string {
  return render(table.symbolize(addr - 1n), addr, 1);
}

function render(s: Symbolized | undefined, addr: bigint, bias: number): string {
  if (!s) return `0x${addr.toString(16)}`;
  const mod = s.module !== undefined ? ` [${s.module}]` : '';
  return `${s.name}+0x${(s.offset + bias).toString(16)}/0x${s.size.toString(16)}${mod}`;
}
