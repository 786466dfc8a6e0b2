/**
 * The two forms of a symbol table's names (src/symbols/name-index.ts) answer alike: the lowest
 * index of a name, whether it repeats, all its indexes; a damaged packed form is refused.
 */
import { describe, expect, it } from 'vitest';
import { MappedNames, nameOrder, PackedNames, type NameColumn } from '../src/symbols/name-index.js';

const NAMES = ['_text', 'b', 'a', 'b', '', 'ä_utf8', 'a', 'c', 'b'];

function packed(names: readonly string[]): PackedNames {
  return new PackedNames(names.join('\0'), nameOrder(names));
}

describe('name columns', () => {
  const forms: [string, NameColumn][] = [['mapped', new MappedNames(NAMES)], ['packed', packed(NAMES)]];
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
    });
  }

  it('refuses a packed form whose order is not a permutation or whose text holds another count', () => {
    expect(() => new PackedNames(NAMES.join('\0'), Uint32Array.from([0, 0, 1, 2, 3, 4, 5, 6, 7]))).toThrow(/permutation/);
    expect(() => new PackedNames(NAMES.join('\0'), Uint32Array.from([9, 0, 1, 2, 3, 4, 5, 6, 7]))).toThrow(/permutation/);
    expect(() => new PackedNames(NAMES.slice(1).join('\0'), nameOrder(NAMES))).toThrow(/does not hold/);
    expect(() => new PackedNames(NAMES.join('\0') + '\0x', nameOrder(NAMES))).toThrow(/does not hold/);
  });
});
