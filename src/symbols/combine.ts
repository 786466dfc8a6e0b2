/**
 * Several symbol sources in priority order (e.g. kallsyms, a System.map, VMCOREINFO): the first
 * source that knows a name or an address answers. Loaded modules' symtabs come in separately
 * (`modules`), read only when first needed; see CombinedSymbolTable.lookup/symbolize. Sources are
 * cross-checked: a name that each of two sources holds exactly once must have one address, and
 * every exception is reported. A source where most shared names disagree does not belong to
 * this dump (a System.map of another build, or without the KASLR slide) and is refused.
 */
import { MismatchedDebugInfoError } from '../errors/index.js';
import { SortedSymbolTable, type KernelSymbol, type SymbolTable, type Symbolized } from './symtab.js';

export interface Disagreement {
  name: string;
  /** source label → that source's address */
  sources: Record<string, bigint>;
}

export interface CombineSource {
  table: SymbolTable;
  /** short name used in disagreements (default: table.source up to its first ' (') */
  label?: string;
  /** compare names with the other sources (default true; off for module symtabs, whose names are per-module) */
  crossCheck?: boolean;
  /** a source the caller named: sharing no name at all with the dump's own sources means another kernel's */
  mustOverlap?: boolean;
  /** the file the source was read from, for messages */
  file?: string;
}

export interface CombineOptions {
  /** refuse a source when more than this fraction of its shared names disagree (default 0.5) */
  maxDisagreement?: number;
  /** ... provided it shares at least this many names (default 20) */
  minShared?: number;
  /** the loaded modules' symtabs, read on first need (never cross-checked: their names are per-module) */
  modules?: LateSource;
}

/** A source read only when first needed: loading every module's symtab costs start-up time most commands never use. */
export interface LateSource {
  label: string;
  /** undefined when it cannot be read (then it is left out, as if never given) */
  load(): SymbolTable | undefined;
}

export class SymbolSourceMismatchError extends MismatchedDebugInfoError {
  constructor(
    readonly label: string,
    readonly against: string,
    readonly shared: number,
    readonly disagreeing: number,
    readonly examples: Disagreement[],
  ) {
    const ex = examples.slice(0, 3).map((d) => `${d.name}: ${Object.entries(d.sources).map(([s, a]) => `${s} 0x${a.toString(16)}`).join(' vs ')}`);
    super(
      `symbol source ${label} does not belong to this dump: ${disagreeing} of ${shared} names it shares with ${against} are at other addresses (e.g. ${ex.join('; ')})`,
    );
  }
}

/** sources holding at least this many names must share one with a source the caller named */
const MIN_OVERLAP_BASE = 5;

export class CombinedSymbolTable implements SymbolTable {
  readonly disagreements: Disagreement[] = [];
  /** per checked source: names compared with earlier sources and how many disagreed */
  readonly checks: { label: string; shared: number; disagreeing: number }[] = [];
  readonly #tables: SymbolTable[];
  readonly #labels: string;
  readonly #late: LateSource | undefined;
  /** the late source once asked for: its table, or null when it could not be read */
  #lateTable: SymbolTable | null | undefined;
  /** [start, end) of the kernel image; null when its bounds are not known */
  #image: { start: bigint; end: bigint } | null | undefined;

  constructor(sources: readonly (SymbolTable | CombineSource)[], opts: CombineOptions = {}) {
    const specs = sources.map((s) => ('table' in s ? s : { table: s }));
    const labels = specs.map((s, i, all) => {
      const l = s.label ?? shortLabel(s.table.source);
      return all.slice(0, i).some((o) => (o.label ?? shortLabel(o.table.source)) === l) ? `${l}#${i + 1}` : l;
    });
    this.#tables = specs.map((s) => s.table);
    this.#labels = labels.join(' > ');
    this.#late = opts.modules;

    const maxFrac = opts.maxDisagreement ?? 0.5;
    const minShared = opts.minShared ?? 20;
    const seen: { label: string; table: SymbolTable }[] = [];
    const byName = new Map<string, Disagreement>();
    for (let i = 0; i < specs.length; i++) {
      if (specs[i].crossCheck === false) continue;
      const table = specs[i].table;
      let shared = 0;
      const bad: Disagreement[] = [];
      for (const prev of seen) {
        // Walk the smaller table's names and ask the larger one: kallsyms holds ~90k names,
        // VMCOREINFO a dozen, so this stays cheap unless two large sources are compared.
        const [small, large] = tableSize(table) <= tableSize(prev.table) ? [table, prev.table] : [prev.table, table];
        for (const [name, a] of uniqueNames(small)) {
          const b = uniqueAddress(large, name);
          if (b === undefined || b === null) continue;
          shared++;
          const [addr, other] = small === table ? [a, b] : [b, a];
          if (other !== addr) {
            let d = byName.get(name);
            if (!d) {
              d = { name, sources: { [prev.label]: other } };
              byName.set(name, d);
              this.disagreements.push(d);
            }
            d.sources[labels[i]] = addr;
            bad.push(d);
          }
        }
      }
      if (seen.length) {
        this.checks.push({ label: labels[i], shared, disagreeing: bad.length });
        const before = seen.reduce((n, s) => n + Math.min(tableSize(s.table), MIN_OVERLAP_BASE), 0);
        if (specs[i].mustOverlap && shared === 0 && before >= MIN_OVERLAP_BASE) {
          throw new MismatchedDebugInfoError(`${labels[i]} shares no symbol name with ${seen.map((s) => s.label).join(', ')}: not this kernel's`, specs[i].file);
        }
        if (shared >= minShared && bad.length > maxFrac * shared) {
          throw new SymbolSourceMismatchError(labels[i], seen.map((s) => s.label).join(', '), shared, bad.length, bad);
        }
      }
      seen.push({ label: labels[i], table });
    }
  }

  /** the sources' labels, the late source's first when it could be read (this reads it) */
  get source(): string {
    return this.late() ? `${this.#late!.label} > ${this.#labels}` : this.#labels;
  }

  /** the late source's table, read on the first call */
  late(): SymbolTable | undefined {
    if (this.#lateTable === undefined) {
      this.#lateTable = null; // a lookup made while loading it (struct module's types) goes without it
      this.#lateTable = this.#late?.load() ?? null;
    }
    return this.#lateTable ?? undefined;
  }

  /** the late source (when it could be read) and then the others */
  #withLate(): SymbolTable[] {
    const late = this.late();
    return late ? [late, ...this.#tables] : this.#tables;
  }

  /**
   * The kernel's own order (kallsyms_lookup_name: vmlinux, then module_kallsyms_lookup_name):
   * the late source is read only for a name no other source holds.
   */
  lookup(name: string): KernelSymbol | undefined {
    for (const t of this.#tables) {
      const s = t.lookup(name);
      if (s) return s;
    }
    return this.late()?.lookup(name);
  }

  /**
   * An address inside the kernel image is never a module's (kallsyms_lookup checks
   * is_ksym_addr before the modules), so the late source is read only for addresses outside it,
   * where it answers first.
   */
  symbolize(addr: bigint): Symbolized | undefined {
    const image = this.#imageRange();
    for (const t of image && addr >= image.start && addr < image.end ? this.#tables : this.#withLate()) {
      const s = t.symbolize(addr);
      if (s) return s;
    }
    return undefined;
  }

  /** [_text or _stext, _end) from the eager sources; null when they do not say */
  #imageRange(): { start: bigint; end: bigint } | null {
    if (this.#image !== undefined) return this.#image;
    const first = (name: string): bigint | undefined => {
      for (const t of this.#tables) {
        const s = t.lookup(name);
        if (s) return s.address;
      }
      return undefined;
    };
    const start = first('_text') ?? first('_stext');
    const end = first('_end');
    return (this.#image = start !== undefined && end !== undefined && start < end ? { start, end } : null);
  }

  /**
   * The kernel image's symbols (not the modules') whose name contains any of `parts`, once per
   * name: the highest-priority source's. For finding a few functions by name without making an
   * object (or a string) for each of ~100k symbols or reading the modules.
   */
  *imageContaining(parts: readonly string[]): Iterable<KernelSymbol> {
    yield* oncePerName(this.#tables, (t) => imageSymbolsContaining(t, parts));
  }

  /** every symbol once per name: the highest-priority source's (the late source first, as symbolize does outside the image) */
  *all(): Iterable<KernelSymbol> {
    yield* oncePerName(this.#withLate(), (t) => t.all()); // the late source read when iterated, not when asked
  }
}

/** each table's symbols (as `each` gives them) whose name no earlier table gave: a name repeated inside one table (static functions) stays */
function* oncePerName(tables: readonly SymbolTable[], each: (t: SymbolTable) => Iterable<KernelSymbol>): Iterable<KernelSymbol> {
  const done = new Set<string>();
  for (const t of tables) {
    const mine = new Set<string>();
    for (const s of each(t)) {
      if (done.has(s.name)) continue;
      mine.add(s.name);
      yield s;
    }
    for (const n of mine) done.add(n);
  }
}

function shortLabel(source: string): string {
  const i = source.indexOf(' (');
  return i > 0 ? source.slice(0, i) : source;
}

function tableSize(t: SymbolTable): number {
  return t instanceof SortedSymbolTable ? t.count : Number.MAX_SAFE_INTEGER;
}

/** a name's address when the table holds it once; null when it repeats; undefined when absent */
function uniqueAddress(t: SymbolTable, name: string): bigint | null | undefined {
  if (t instanceof SortedSymbolTable) return t.uniqueAddress(name);
  return uniqueMap(t).get(name);
}

/**
 * The names a table holds exactly once, with their addresses. A SortedSymbolTable answers from
 * its name index (no symbol objects: the arm64 cross-check of kallsyms against the vmlinux's
 * symtab compared ~60k names at every start); other tables are read whole.
 */
function uniqueNames(t: SymbolTable): Iterable<[string, bigint]> {
  if (t instanceof SortedSymbolTable) return t.uniqueNames();
  return [...uniqueMap(t)].filter((e): e is [string, bigint] => e[1] !== null);
}

/** name → address for names the table holds once (null: more than once, e.g. static functions); built once per table */
const uniqueMaps = new WeakMap<SymbolTable, Map<string, bigint | null>>();
function uniqueMap(t: SymbolTable): Map<string, bigint | null> {
  let m = uniqueMaps.get(t);
  if (!m) {
    m = new Map();
    for (const s of t.all()) m.set(s.name, m.has(s.name) ? null : s.address);
    uniqueMaps.set(t, m);
  }
  return m;
}

/** a table's kernel-image symbols whose name contains any of `parts` (CombinedSymbolTable.imageContaining; any other table whole) */
export function imageSymbolsContaining(table: SymbolTable, parts: readonly string[]): Iterable<KernelSymbol> {
  if (table instanceof CombinedSymbolTable) return table.imageContaining(parts);
  if (table instanceof SortedSymbolTable) return table.containing(parts);
  return [...table.all()].filter((s) => parts.some((p) => s.name.includes(p)));
}
