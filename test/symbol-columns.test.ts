/**
 * The addon's checks over a cached symbol table's columns (native/addon.cc: firstDescent,
 * isPermutation, startsFit, shiftAbove) give the answers of the plain definitions below, on
 * edge cases and on random columns, including hostile ones (indexes out of range, starts past
 * the text). Each start of vaat runs them over ~140,000 symbols instead of JavaScript loops.
 */
import { describe, expect, it } from 'vitest';
import { loadNative } from '../src/dump/native.js';
import { isPermutation as namesPermutation, nameOrder, nameStarts, PackedNames } from '../src/symbols/name-index.js';
import { SortedSymbolTable } from '../src/symbols/symtab.js';

const native = loadNative();
const U64 = (1n << 64n) - 1n;

// the definitions, written for clarity
const firstDescent = (a: BigUint64Array): number => a.findIndex((v, i) => i > 0 && a[i - 1] > v);
const isPermutation = (a: Uint32Array): boolean => [...a].sort((x, y) => x - y).every((v, i) => v === i);
function startsFit(text: Uint8Array, starts: Uint32Array): boolean {
  const n = starts.length - 1;
  if (n < 0 || starts[0] !== 0) return false;
  if (n === 0) return text.length === 0;
  if (starts[n] !== text.length + 1) return false;
  for (let i = 1; i < n; i++) if (!(starts[i] > starts[i - 1] && starts[i] <= text.length && text[starts[i] - 1] === 0)) return false;
  return true;
}

/** a small deterministic generator (xorshift32), so a failure repeats */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

describe('symbol column checks in the addon', () => {
  it('has them', () => {
    for (const f of ['firstDescent', 'isPermutation', 'startsFit', 'shiftAbove'] as const) expect(typeof native[f]).toBe('function');
  });

  it('firstDescent: the first address below its predecessor, or -1', () => {
    const cases = [[], [5n], [1n, 2n, 2n, 3n], [2n, 1n], [1n, 2n, 3n, 0n], [U64, 0n], [0n, U64, U64]];
    for (const c of cases) expect(native.firstDescent!(BigUint64Array.from(c))).toBe(firstDescent(BigUint64Array.from(c)));
    const r = rng(7);
    for (let k = 0; k < 200; k++) {
      const a = new BigUint64Array(1 + (r() % 50));
      let v = BigInt(r());
      for (let i = 0; i < a.length; i++) { v += BigInt(r() % 3 === 0 ? 0 : r() % 1000); a[i] = v & U64; }
      if (k % 2) a[r() % a.length] = BigInt(r()); // sometimes out of order
      expect(native.firstDescent!(a)).toBe(firstDescent(a));
    }
    // a view: only its own elements count
    const whole = BigUint64Array.from([9n, 1n, 2n, 3n]);
    expect(native.firstDescent!(whole.subarray(1))).toBe(-1);
  });

  it('isPermutation: every index below the length exactly once', () => {
    const cases = [[], [0], [1], [0, 0], [1, 0], [2, 0, 1], [2, 0, 3], [0xffffffff, 0]];
    for (const c of cases) expect(native.isPermutation!(Uint32Array.from(c))).toBe(isPermutation(Uint32Array.from(c)));
    const r = rng(11);
    for (let k = 0; k < 200; k++) {
      const n = r() % 40;
      const a = Uint32Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) { const j = r() % (i + 1); [a[i], a[j]] = [a[j], a[i]]; }
      if (n && k % 3 === 1) a[r() % n] = r() % (n + 2); // a repeat or an index out of range
      expect(native.isPermutation!(a)).toBe(isPermutation(a));
    }
  });

  it('startsFit: the starts split the text into its NUL-separated names', () => {
    const r = rng(13);
    for (let k = 0; k < 300; k++) {
      const names = Array.from({ length: r() % 8 }, () => 'x'.repeat(r() % 4));
      const text = Buffer.from(names.join('\0'), 'latin1');
      const starts = new Uint32Array(names.length + 1);
      let at = 0;
      names.forEach((nm, i) => { starts[i] = at; at += nm.length + 1; });
      starts[names.length] = at;
      if (k % 2 && starts.length > 1) starts[r() % starts.length] += [1, -1, 0x7fffffff][r() % 3];
      const s = k % 7 === 3 ? starts.subarray(0, Math.max(0, starts.length - 1)) : starts;
      if (names.length === 0 && text.length === 0 && s.length === 1) expect(native.startsFit!(text, s)).toBe(true);
      expect(native.startsFit!(text, s)).toBe(startsFit(text, s));
    }
    expect(native.startsFit!(new Uint8Array(0), new Uint32Array(0))).toBe(false);
  });

  it('shiftAbove: adds delta mod 2^64 to the elements at or above base', () => {
    const r = rng(17);
    for (let k = 0; k < 100; k++) {
      const a = BigUint64Array.from({ length: r() % 30 }, () => (BigInt(r()) << 32n | BigInt(r())) & U64);
      const delta = (BigInt(r()) << 32n | BigInt(r())) & U64;
      const base = k % 4 === 0 ? 0n : a.length ? a[r() % a.length] : 0n; // base equal to an element: it moves
      const want = a.map((v) => (v >= base ? (v + delta) & U64 : v));
      native.shiftAbove!(a, delta, base);
      expect(a).toEqual(want);
    }
  });

  it('an addon without them (built before them): the JavaScript loops give the same answers', () => {
    const names = ['_stext', 'a', 'b', 'a', '', 'zz'];
    const text = names.join('\0');
    const check = () => {
      expect(namesPermutation(Uint32Array.from([2, 0, 1]))).toBe(true);
      expect(namesPermutation(Uint32Array.from([0, 0, 1]))).toBe(false);
      const packed = PackedNames.fromBytes(Buffer.from(text, 'latin1'), nameOrder(names), nameStarts(text, names.length));
      expect(names.map((_, i) => packed.at(i))).toEqual(names);
      const bad = nameStarts(text, names.length);
      bad[2] += 1;
      expect(() => PackedNames.fromBytes(Buffer.from(text, 'latin1'), nameOrder(names), bad)).toThrow(/starts do not fit/);
      // out of order: sorted by address, aliases in the source's order
      const t = new SortedSymbolTable('t', [
        { name: 'c', address: 0x3000n, type: 'T' }, { name: 'a', address: 0x1000n, type: 'T' },
        { name: 'b', address: 0x2000n, type: 'T' }, { name: 'a2', address: 0x1000n, type: 'T' },
      ], { sizes: 'next' });
      expect([...t.all()].map((x) => x.name)).toEqual(['a', 'a2', 'b', 'c']);
    };
    check();
    const mod = native as unknown as Record<string, unknown>;
    const names4 = ['firstDescent', 'isPermutation', 'startsFit', 'shiftAbove'];
    const saved = names4.map((k) => mod[k]);
    try {
      for (const k of names4) delete mod[k];
      expect(native.isPermutation).toBeUndefined();
      check();
    } finally {
      names4.forEach((k, i) => { mod[k] = saved[i]; });
    }
  });

  it('refuses arguments of the wrong kind with a TypeError', () => {
    expect(() => native.firstDescent!(new Uint32Array(2) as unknown as BigUint64Array)).toThrow(TypeError);
    expect(() => native.isPermutation!([0, 1] as unknown as Uint32Array)).toThrow(TypeError);
    expect(() => native.startsFit!(new Uint8Array(1), new Uint8Array(1) as unknown as Uint32Array)).toThrow(TypeError);
    expect(() => native.shiftAbove!(new BigUint64Array(1), 'x' as unknown as bigint, 0n)).toThrow(TypeError);
    expect(() => native.shiftAbove!(new BigUint64Array(1), -1n, 0n)).toThrow(TypeError);
  });
});
