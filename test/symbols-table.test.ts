/** Symbol table mechanics on small hand-made tables: sizes, aliases, exact tables, combining. */
import { describe, expect, it } from 'vitest';
import { VmcoreInfo } from '../src/dump/vmcoreinfo.js';
import { CombinedSymbolTable, SymbolSourceMismatchError } from '../src/symbols/combine.js';
import { parseSystemMap } from '../src/symbols/systemmap.js';
import { formatReturnAddress, formatSymbol, SortedSymbolTable } from '../src/symbols/symtab.js';
import { vmcoreinfoSymbolTable } from '../src/symbols/vmcoreinfo-symbols.js';

const A = 0xffffffff81000000n;
const table = new SortedSymbolTable('test', [
  { name: 'b_func', address: A + 0x40n, type: 'T' },
  { name: 'a_func', address: A, type: 'T' },
  { name: 'alias_of_b', address: A + 0x40n, type: 't' },
  { name: 'last', address: A + 0x100n, type: 'T' },
], { sizes: 'next' });

describe('SortedSymbolTable', () => {
  it('sizes each symbol up to the next higher address and picks the first alias', () => {
    expect(table.symbolize(A + 0x1an)).toMatchObject({ name: 'a_func', offset: 0x1a, size: 0x40 });
    expect(table.symbolize(A + 0x41n)).toMatchObject({ name: 'b_func', offset: 1, size: 0xc0 });
    expect(table.lookup('alias_of_b')!.size).toBe(0xc0);
    expect(formatSymbol(table, A + 0x5an)).toBe('b_func+0x1a/0xc0');
  });
  it('answers nothing below the first symbol or past the last one', () => {
    expect(table.symbolize(A - 1n)).toBeUndefined();
    expect(table.symbolize(A + 0x100n)).toMatchObject({ name: 'last', offset: 0, size: 0 });
    expect(table.symbolize(A + 0x101n)).toBeUndefined();
    expect(formatSymbol(table, A + 0x101n)).toBe('0xffffffff81000101');
  });
  it('attributes a return address at a function end to the caller (%pB)', () => {
    expect(formatReturnAddress(table, A + 0x40n)).toBe('a_func+0x40/0x40');
    expect(formatSymbol(table, A + 0x40n)).toBe('b_func+0x0/0xc0');
  });
  it('keeps every symbol of a repeated name', () => {
    const t = new SortedSymbolTable('dups', [
      { name: 'show', address: A + 0x10n, type: 't' },
      { name: 'show', address: A, type: 't' },
    ], { sizes: 'next' });
    expect(t.lookup('show')!.address).toBe(A);
    expect(t.lookupAll('show').map((s) => s.address)).toEqual([A, A + 0x10n]);
  });
});

describe('System.map and VMCOREINFO sources', () => {
  const map = [
    '0000000000000000 D fixed_percpu_data',
    '00000000000001ea A kexec_control_code_size',
    'ffffffff81000000 T _stext',
    'ffffffff81000040 T start_kernel',
    'ffffffff82bf99e0 D init_uts_ns',
  ].join('\n');
  it('adds the KASLR slide to image addresses only', () => {
    const t = parseSystemMap(map, { kernelOffset: 0x39c00000n, label: 'm' });
    expect(t.lookup('_stext')!.address).toBe(0xffffffffbac00000n);
    expect(t.lookup('fixed_percpu_data')!.address).toBe(0n);
    expect(t.lookup('kexec_control_code_size')!.address).toBe(0x1ean);
    expect(t.source).toBe('System.map (m +0x39c00000)');
  });
  it('rejects text that is not a System.map', () => {
    expect(() => parseSystemMap('hello world\n', { kernelOffset: 0n, label: 'x' })).toThrow(/x:1: not a System.map line/);
  });
  it('symbolizes VMCOREINFO symbols only at their exact addresses', () => {
    const t = vmcoreinfoSymbolTable(new VmcoreInfo('SYMBOL(_stext)=ffffffffbac00000\nSYMBOL(prb)=ffffffffbc6622c0\nOSRELEASE=x\n'));
    expect(t.symbolize(0xffffffffbac00000n)).toMatchObject({ name: '_stext', offset: 0 });
    expect(t.symbolize(0xffffffffbac00010n)).toBeUndefined();
    expect([...t.all()].length).toBe(2);
  });
});

describe('CombinedSymbolTable', () => {
  const mk = (label: string, shift: bigint, n = 40): SortedSymbolTable =>
    new SortedSymbolTable(label, Array.from({ length: n }, (_, i) => ({ name: `f${i}`, address: A + BigInt(i * 0x40) + (i < 30 ? shift : 0n), type: 'T' })), { sizes: 'next' });

  it('answers from the first source that knows, and lists disagreements', () => {
    const extra = new SortedSymbolTable('extra', [{ name: 'only_here', address: A + 0x10000n, type: 'T' }, { name: 'f1', address: A + 0x44n, type: 'T' }], { sizes: 'next' });
    const c = new CombinedSymbolTable([mk('one', 0n), extra]);
    expect(c.lookup('only_here')!.address).toBe(A + 0x10000n);
    expect(c.lookup('f1')!.address).toBe(A + 0x40n);
    expect(c.disagreements).toEqual([{ name: 'f1', sources: { one: A + 0x40n, extra: A + 0x44n } }]);
    expect([...c.all()].length).toBe(41);
  });
  it('refuses a source where most shared names are elsewhere', () => {
    expect(() => new CombinedSymbolTable([mk('one', 0n), mk('two', 0x1000n)])).toThrow(SymbolSourceMismatchError);
    // below the minimum overlap nothing is refused, only reported
    const few = new CombinedSymbolTable([mk('one', 0n, 10), mk('two', 0x1000n, 10)]);
    expect(few.disagreements.length).toBe(10);
  });
});

describe('VMCOREINFO NUMBER() values', () => {
  it('reads decimal and 0x-hex (arm64 writes NUMBER(KERNELPACMASK)=0x%llx), and refuses anything else', () => {
    const info = new VmcoreInfo('NUMBER(VA_BITS)=48\nNUMBER(KERNELPACMASK)=0xffff000000000000\nNUMBER(x)=-1\nNUMBER(bad)=0xzz\n');
    expect(info.number('VA_BITS')).toBe(48n);
    expect(info.number('KERNELPACMASK')).toBe(0xffff000000000000n);
    expect(info.number('x')).toBe(-1n);
    expect(() => info.number('bad')).toThrow(/NUMBER\(bad\)/);
  });
});
