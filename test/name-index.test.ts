/**
 * The two forms of a symbol table's names (src/symbols/name-index.ts) answer alike: the lowest
 * index of a name, whether it repeats, all its indexes; a damaged packed form is refused.
 */
import { describe, expect, it } from 'vitest';
import { MappedNames, nameOrder, nameStarts, PackedNames, type NameColumn } from '../src/symbols/name-index.js';

const NAMES = ['_text', 'b', 'a', 'b', '', 'ä_utf8', 'a', 'c', 'b'];

function packed(names: readonly string[]): PackedNames {
  return new PackedNames(names.join('\0'), nameOrder(names));
}

describe('name columns', () => {
  const text = NAMES.join('\0');
  const forms: [string, NameColumn][] = [
    ['mapped', new MappedNames(NAMES)], ['packed', packed(NAMES)],
    // as the kallsyms cache loads it: with the starts it stored
    ['packed with starts', new PackedNames(text, nameOrder(NAMES), nameStarts(text, NAMES.length))],
    // from the cache's bytes: 'ä_utf8' makes them UTF-8 (decoded and checked in JavaScript) ...
    ['packed from UTF-8 bytes', PackedNames.fromBytes(Buffer.from(text, 'utf8'), nameOrder(NAMES), nameStarts(text, NAMES.length))],
  ];
  // ... and ASCII names, every kernel's, are checked by the addon on the bytes
  const ascii = NAMES.filter((n) => /^[\x00-\x7f]*$/.test(n));
  const asciiText = ascii.join('\0');
  const asciiForms: [string, NameColumn][] = [
    ['mapped', new MappedNames(ascii)],
    ['packed from ASCII bytes', PackedNames.fromBytes(Buffer.from(asciiText, 'latin1'), nameOrder(ascii), nameStarts(asciiText, ascii.length))],
  ];
  for (const [label, col] of asciiForms) {
    it(`${label} (ASCII names): at, first, repeats and every agree with the array`, () => {
      expect(ascii.map((_, i) => col.at(i))).toEqual(ascii);
      for (const name of [...new Set(ascii), 'absent']) {
        const every = ascii.flatMap((n, i) => (n === name ? [i] : []));
        expect(col.first(name)).toBe(every[0]);
        expect(col.repeats(name)).toBe(every.length > 1);
        expect(col.every(name)).toEqual(every);
      }
    });
  }
  for (const [label, col] of forms) {
    it(`${label}: first, repeats, every and at agree with the array`, () => {
      expect(col.length).toBe(NAMES.length);
      expect(NAMES.map((_, i) => col.at(i))).toEqual(NAMES);
      for (const name of [...new Set(NAMES), 'absent', 'bb', '0']) {
        const every = NAMES.flatMap((n, i) => (n === name ? [i] : []));
        expect(col.first(name)).toBe(every[0]);
        expect(col.repeats(name)).toBe(every.length > 1);
        expect(col.every(name)).toEqual(every);
      }
      // the names held once, in index order: '_text', '', 'ä_utf8', 'c'
      expect([...col.uniques()]).toEqual([['_text', 0], ['', 4], ['ä_utf8', 5], ['c', 7]]);
      // names containing a part: never a match across two names ('b\0a' holds no 'ba')
      for (const parts of [['b'], ['a', 'c'], ['ba'], ['_'], ['utf'], ['ä'], ['absent'], ['t', 'x']]) {
        expect(col.containing(parts)).toEqual(NAMES.flatMap((n, i) => (parts.some((p) => n.includes(p)) ? [i] : [])));
      }
    });
  }

  it('refuses a packed form whose order is not a permutation or whose text holds another count', () => {
    expect(() => new PackedNames(NAMES.join('\0'), Uint32Array.from([0, 0, 1, 2, 3, 4, 5, 6, 7]))).toThrow(/permutation/);
    expect(() => new PackedNames(NAMES.join('\0'), Uint32Array.from([9, 0, 1, 2, 3, 4, 5, 6, 7]))).toThrow(/permutation/);
    expect(() => new PackedNames(NAMES.slice(1).join('\0'), nameOrder(NAMES))).toThrow(/does not hold/);
    expect(() => new PackedNames(NAMES.join('\0') + '\0x', nameOrder(NAMES))).toThrow(/does not hold/);
  });

  it('refuses stored name starts that do not split the text into its names', () => {
    const text = NAMES.join('\0');
    const good = nameStarts(text, NAMES.length);
    const bad = (edit: (s: Uint32Array) => void) => { const s = good.slice(); edit(s); return s; };
    for (const starts of [
      bad((s) => { s[2] += 1; }), // a start not just past a NUL
      bad((s) => { s[5] = s[4]; }), // not ascending
      bad((s) => { s[NAMES.length] += 1; }), // the last name past the text's end
      good.subarray(0, NAMES.length), // one short
    ]) {
      expect(() => new PackedNames(text, nameOrder(NAMES), starts)).toThrow(/starts do not fit/);
      expect(() => PackedNames.fromBytes(Buffer.from(text, 'utf8'), nameOrder(NAMES), starts)).toThrow(/starts do not fit/);
    }
  });

  it('fromBytes refuses damaged starts and orders of ASCII names (the checks in the addon)', () => {
    const names = ['_stext', 'a', 'b', 'a', '', 'zz'];
    const text = names.join('\0');
    const bytes = Buffer.from(text, 'latin1');
    const good = nameStarts(text, names.length);
    const order = nameOrder(names);
    expect(PackedNames.fromBytes(bytes, order, good).at(5)).toBe('zz');
    const bad = (edit: (s: Uint32Array) => void) => { const s = good.slice(); edit(s); return s; };
    for (const starts of [
      bad((s) => { s[2] += 1; }), bad((s) => { s[3] = s[2]; }), bad((s) => { s[names.length] += 1; }),
      bad((s) => { s[0] = 1; }), bad((s) => { s[4] = 0xffffffff; }), good.subarray(0, names.length),
    ]) expect(() => PackedNames.fromBytes(bytes, order, starts)).toThrow(/starts do not fit/);
    for (const o of [Uint32Array.from([0, 0, 1, 2, 3, 4]), Uint32Array.from([6, 0, 1, 2, 3, 4])]) {
      expect(() => PackedNames.fromBytes(bytes, o, good)).toThrow(/permutation/);
    }
  });
});
