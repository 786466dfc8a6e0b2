/**
 * A symbol table's names, in the table's (address) order, and where each name first occurs.
 * Two forms: a Map built over an array of names (fresh decodes, module symtabs), and a packed
 * form for the kallsyms cache — one string plus a name-sorted permutation written with the
 * cache — which a ~90k-symbol table loads without making 90k strings or hashing them into a Map
 * (≈50 ms of every start).
 */

import { isAscii } from 'node:buffer';
import { loadNativeOrNull } from '../dump/native.js';

export interface NameColumn {
  readonly length: number;
  /** name of symbol i */
  at(i: number): string;
  /** the lowest index holding that name (the kernel's choice among equal names) */
  first(name: string): number | undefined;
  /** whether more than one symbol has that name */
  repeats(name: string): boolean;
  /** every index holding that name, ascending */
  every(name: string): number[];
  /** each name held exactly once, with its index, in index order: what a cross-check of two tables compares */
  uniques(): Iterable<[string, number]>;
  /** the indexes of the names containing any of `parts`, ascending */
  containing(parts: readonly string[]): number[];
}

/** Names indexed by a Map; `every` is built on first use (most callers never need it). */
export class MappedNames implements NameColumn {
  readonly #first = new Map<string, number>();
  readonly #repeated = new Set<string>();
  #dups: Map<string, number[]> | undefined;

  constructor(readonly names: readonly string[]) {
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (!this.#first.has(name)) this.#first.set(name, i);
      else this.#repeated.add(name);
    }
  }

  get length(): number { return this.names.length; }
  at(i: number): string { return this.names[i]; }
  first(name: string): number | undefined { return this.#first.get(name); }
  repeats(name: string): boolean { return this.#repeated.has(name); }

  containing(parts: readonly string[]): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.names.length; i++) if (parts.some((p) => this.names[i].includes(p))) out.push(i);
    return out;
  }

  *uniques(): Iterable<[string, number]> {
    for (const [name, i] of this.#first) if (!this.#repeated.has(name)) yield [name, i];
  }

  every(name: string): number[] {
    if (!this.#repeated.has(name)) {
      const i = this.#first.get(name);
      return i === undefined ? [] : [i];
    }
    if (!this.#dups) {
      this.#dups = new Map();
      for (let i = 0; i < this.names.length; i++) {
        const nm = this.names[i];
        if (!this.#repeated.has(nm)) continue;
        const l = this.#dups.get(nm);
        if (l) l.push(i);
        else this.#dups.set(nm, [i]);
      }
    }
    return [...(this.#dups.get(name) ?? [])];
  }
}

/** where each of the `n` NUL-separated names of `text` starts; entry n is one past the last name's end */
export function nameStarts(text: string, n: number): Uint32Array {
  const starts = new Uint32Array(n + 1);
  let at = 0;
  for (let i = 0; i < n; i++) {
    starts[i] = at;
    // names 0..n-2 end in a NUL, the last runs to the end of the text
    const nul = text.indexOf('\0', at);
    if ((nul < 0) !== (i === n - 1)) throw new Error(`packed names: the text does not hold ${n} names`);
    at = nul < 0 ? text.length + 1 : nul + 1;
  }
  starts[n] = at;
  if (n === 0 && text !== '') throw new Error('packed names: the text does not hold 0 names');
  return starts;
}

/**
 * whether `starts` splits `text` into `n` names as nameStarts would: ascending, each name but
 * the last ending at a NUL, the last at the text's end (a NUL inside a name is not looked for:
 * it would make a wrong name, never a read out of bounds)
 */
function startsFit(text: string, starts: Uint32Array, n: number): boolean {
  if (starts.length !== n + 1 || starts[0] !== 0) return false;
  if (n === 0) return text === '';
  if (starts[n] !== text.length + 1) return false;
  for (let i = 1; i < n; i++) {
    const at = starts[i];
    if (at <= starts[i - 1] || text.charCodeAt(at - 1) !== 0) return false;
  }
  return true;
}

/** indexes of `names` ordered by name (JS string order), equal names by index: PackedNames' `sorted` */
export function nameOrder(names: readonly string[]): Uint32Array {
  const order = Uint32Array.from({ length: names.length }, (_, i) => i);
  return order.sort((a, b) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : a - b));
}

/** the first position k < count whose name is not below `name`, for names ascending by position */
export function lowerBound(count: number, name: string, nameAt: (k: number) => string): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (nameAt(mid) < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** the first index in `sorted` (indexes ordered by nameAt, as nameOrder makes them) named `name`, or undefined */
export function sortedFirst(sorted: Uint32Array, name: string, nameAt: (i: number) => string): number | undefined {
  const k = lowerBound(sorted.length, name, (p) => nameAt(sorted[p]));
  return k < sorted.length && nameAt(sorted[k]) === name ? sorted[k] : undefined;
}

/** whether `sorted` (a permutation of 0..n-1 if so) holds every index below its length exactly once */
export function isPermutation(sorted: Uint32Array): boolean {
  const native = loadNativeOrNull();
  if (native?.isPermutation) return native.isPermutation(sorted);
  const n = sorted.length;
  const seen = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = sorted[k];
    if (i >= n || seen[i]) return false;
    seen[i] = 1;
  }
  return true;
}

const startsDoNotFit = (n: number): Error => new Error(`packed names: the name starts do not fit the text of ${n} names`);
const notPermutation = (): Error => new Error('packed names: the name order is not a permutation');

/** passed by PackedNames.fromBytes alone: its text, starts and order were checked already */
const CHECKED: unique symbol = Symbol('checked');

/**
 * Names as one NUL-separated string and `sorted` = nameOrder(names), searched by binary search.
 * Throws when `sorted` is not a permutation of the names' indexes or the count disagrees.
 */
export class PackedNames implements NameColumn {
  readonly #text: string;
  /** start of name i in #text; entry `length` is one past the last name's NUL */
  readonly #starts: Uint32Array;
  readonly #sorted: Uint32Array;
  readonly #at = (i: number): string => this.at(i);

  /**
   * `starts` (nameStarts(text)) may come with the text, as the kallsyms cache stores it: it is
   * then checked (each name ends at a NUL, the last at the text's end) instead of found by 140k
   * searches for the NULs.
   */
  constructor(text: string, sorted: Uint32Array, starts?: Uint32Array, checked?: typeof CHECKED) {
    const n = sorted.length;
    // fromBytes() checked the starts and the order on the bytes (CHECKED)
    if (checked !== CHECKED && starts && !startsFit(text, starts, n)) throw startsDoNotFit(n);
    starts ??= nameStarts(text, n);
    if (checked !== CHECKED && !isPermutation(sorted)) throw notPermutation();
    this.#text = text;
    this.#starts = starts;
    this.#sorted = sorted;
  }

  /**
   * Names stored as bytes (the kallsyms cache's UTF-8) with their starts and order. ASCII names,
   * every kernel's, are their own text character for character, so the addon checks the starts
   * on the bytes and the text is decoded as Latin-1, the cheapest decoding; other names are
   * decoded as UTF-8 and checked by the constructor.
   */
  static fromBytes(bytes: Uint8Array, sorted: Uint32Array, starts: Uint32Array): PackedNames {
    const native = loadNativeOrNull();
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (!native?.startsFit || !isAscii(bytes)) return new PackedNames(buf.toString('utf8'), sorted, starts);
    if (starts.length !== sorted.length + 1 || !native.startsFit(bytes, starts)) throw startsDoNotFit(sorted.length);
    if (!isPermutation(sorted)) throw notPermutation();
    return new PackedNames(buf.toString('latin1'), sorted, starts, CHECKED);
  }

  get length(): number { return this.#sorted.length; }
  at(i: number): string { return this.#text.slice(this.#starts[i], this.#starts[i + 1] - 1); }

  /**
   * Searched in the text itself, each hit mapped to its name by the starts: the few hundred names
   * a lock scan wants from ~140k, without a string made for each of the others.
   */
  containing(parts: readonly string[]): number[] {
    const hits = new Set<number>();
    const starts = this.#starts;
    for (const part of parts) {
      if (part === '') return Array.from({ length: this.length }, (_, i) => i);
      for (let at = this.#text.indexOf(part); at >= 0;) {
        // the name holding position `at`: the last start at or below it
        let lo = 0;
        let hi = this.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (starts[mid] <= at) lo = mid + 1; else hi = mid;
        }
        const i = lo - 1;
        // a hit across a NUL spans two names, and is no name's
        if (at + part.length < starts[i + 1]) hits.add(i);
        at = this.#text.indexOf(part, at + 1);
      }
    }
    return [...hits].sort((a, b) => a - b);
  }

  #lowerBound(name: string): number { return lowerBound(this.#sorted.length, name, (k) => this.at(this.#sorted[k])); }

  first(name: string): number | undefined { return sortedFirst(this.#sorted, name, this.#at); }

  repeats(name: string): boolean {
    const k = this.#lowerBound(name);
    return k + 1 < this.#sorted.length && this.at(this.#sorted[k]) === name && this.at(this.#sorted[k + 1]) === name;
  }

  every(name: string): number[] {
    const out: number[] = [];
    for (let k = this.#lowerBound(name); k < this.#sorted.length && this.at(this.#sorted[k]) === name; k++) out.push(this.#sorted[k]);
    return out;
  }

  /** equal names are neighbours in the name order: one pass marks them, a second yields the rest in index order */
  *uniques(): Iterable<[string, number]> {
    const n = this.#sorted.length;
    const repeated = new Uint8Array(n);
    let prev: string | null = null;
    for (let k = 0; k < n; k++) {
      const name = this.at(this.#sorted[k]);
      if (name === prev) repeated[this.#sorted[k]] = repeated[this.#sorted[k - 1]] = 1;
      prev = name;
    }
    for (let i = 0; i < n; i++) if (!repeated[i]) yield [this.at(i), i];
  }
}
