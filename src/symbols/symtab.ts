/**
 * Symbol tables: name → address and address → name over one source (kallsyms, a System.map,
 * VMCOREINFO, a module's own symtab). Every source is reduced to a sorted array searched by
 * binary search; a symbol's size is the distance to the next symbol at a higher address, as the
 * kernel's own kallsyms_lookup() computes it.
 */

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
}

/** One source's symbols, sorted by address (stable: aliases keep the source's order). */
export class SortedSymbolTable implements SymbolTable {
  readonly #syms: KernelSymbol[];
  readonly #addrs: BigUint64Array;
  readonly #byName = new Map<string, number>();
  readonly #repeated = new Set<string>();
  readonly #exact: boolean;
  #dups: Map<string, KernelSymbol[]> | undefined;

  constructor(readonly source: string, symbols: readonly KernelSymbol[], opts: SortedTableOptions) {
    const syms = symbols.map((s) => ({ ...s }));
    // Array.prototype.sort is stable, so symbols at one address stay in the source's order and
    // the first of them is the one the kernel prints (scripts/kallsyms.c orders aliases so).
    // kallsyms and `nm -n` maps arrive sorted already; bigint comparisons make a needless sort costly.
    if (!isSortedByAddress(syms)) syms.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    if (opts.sizes === 'next') {
      // Walk backwards so each symbol sees the next *different* address.
      let next = opts.end;
      for (let i = syms.length - 1; i >= 0; i--) {
        const s = syms[i];
        s.size = next !== undefined && next > s.address ? Number(next - s.address) : 0;
        if (i > 0 && syms[i - 1].address !== s.address) next = s.address;
      }
    } else if (opts.sizes === 'exact') {
      for (const s of syms) s.size = 0;
    }
    this.#syms = syms;
    this.#addrs = BigUint64Array.from(syms, (s) => s.address);
    for (let i = 0; i < syms.length; i++) {
      if (!this.#byName.has(syms[i].name)) this.#byName.set(syms[i].name, i);
      else this.#repeated.add(syms[i].name);
    }
    this.#exact = opts.sizes === 'exact';
  }

  get count(): number { return this.#syms.length; }

  /** the address of a name this table holds exactly once; null when it repeats, undefined when absent */
  uniqueAddress(name: string): bigint | null | undefined {
    if (this.#repeated.has(name)) return null;
    return this.lookup(name)?.address;
  }
  /** lowest and highest symbol address (undefined when empty) */
  get range(): { first: bigint; last: bigint } | undefined {
    const n = this.#addrs.length;
    return n === 0 ? undefined : { first: this.#addrs[0], last: this.#addrs[n - 1] };
  }

  lookup(name: string): KernelSymbol | undefined {
    const i = this.#byName.get(name);
    return i === undefined ? undefined : this.#syms[i];
  }

  /** every symbol of that name (static functions repeat across files) */
  lookupAll(name: string): KernelSymbol[] {
    if (!this.#dups) {
      // built on first use: most callers never need it
      this.#dups = new Map();
      for (const s of this.#syms) {
        const l = this.#dups.get(s.name);
        if (l) l.push(s);
        else this.#dups.set(s.name, [s]);
      }
    }
    return this.#dups.get(name) ?? [];
  }

  symbolize(addr: bigint): Symbolized | undefined {
    const a = this.#addrs;
    // last index with a[i] <= addr
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] <= addr) lo = mid + 1;
      else hi = mid;
    }
    let i = lo - 1;
    if (i < 0) return undefined;
    while (i > 0 && a[i - 1] === a[i]) i--; // first alias: the kernel's choice
    const s = this.#syms[i];
    const offset = addr - s.address;
    const size = s.size ?? 0;
    if (offset === 0n || (!this.#exact && offset < BigInt(size))) {
      return { name: s.name, address: s.address, offset: Number(offset), size, ...(s.module !== undefined ? { module: s.module } : {}) };
    }
    return undefined;
  }

  all(): Iterable<KernelSymbol> { return this.#syms; }
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

function isSortedByAddress(syms: readonly KernelSymbol[]): boolean {
  for (let i = 1; i < syms.length; i++) if (syms[i - 1].address > syms[i].address) return false;
  return true;
}
