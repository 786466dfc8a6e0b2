/**
 * Loaded modules as CombinedSymbolTable's late source: read only when a name is in no vmlinux
 * source, an address lies outside the kernel image, or every symbol is asked for — the kernel's
 * own order (kallsyms_lookup_name: vmlinux, then modules; kallsyms_lookup: is_ksym_addr first).
 */
import { describe, expect, it } from 'vitest';
import { CombinedSymbolTable } from '../src/symbols/combine.js';
import { SortedSymbolTable, type KernelSymbol } from '../src/symbols/symtab.js';

const TEXT = 0xffffffff81000000n;
const MOD = 0xffffffffc0400000n;

function vmlinux(): SortedSymbolTable {
  const syms: KernelSymbol[] = [
    { name: '_text', type: 'T', address: TEXT },
    { name: 'schedule', type: 'T', address: TEXT + 0x100n },
    { name: 'probe', type: 't', address: TEXT + 0x200n },
    { name: '_end', type: 'B', address: TEXT + 0x1000n },
  ];
  return new SortedSymbolTable('kallsyms', syms, { sizes: 'next' });
}

function modules(): SortedSymbolTable {
  const syms: KernelSymbol[] = [
    { name: 'holder_init', type: 't', address: MOD, size: 0x40, module: 'holder' },
    { name: 'probe', type: 't', address: MOD + 0x40n, size: 0x20, module: 'holder' },
  ];
  return new SortedSymbolTable('module holder', syms, { sizes: 'given' });
}

function combined(): { table: CombinedSymbolTable; loads: () => number } {
  let n = 0;
  const table = new CombinedSymbolTable([{ table: vmlinux(), label: 'kallsyms' }], {
    modules: { label: 'modules', load: () => { n++; return modules(); } },
  });
  return { table, loads: () => n };
}

describe('late module source', () => {
  it('answers vmlinux names and image addresses without reading the modules', () => {
    const { table, loads } = combined();
    expect(table.lookup('schedule')?.address).toBe(TEXT + 0x100n);
    expect(table.symbolize(TEXT + 0x104n)).toMatchObject({ name: 'schedule', offset: 4 });
    expect(loads()).toBe(0);
  });

  it('prefers vmlinux for a name both hold, as kallsyms_lookup_name does', () => {
    const { table, loads } = combined();
    expect(table.lookup('probe')?.address).toBe(TEXT + 0x200n);
    expect(table.lookup('probe')).not.toHaveProperty('module');
    expect(loads()).toBe(0);
  });

  it('reads the modules once, for a name only they hold or an address outside the image', () => {
    const { table, loads } = combined();
    expect(table.lookup('holder_init')).toMatchObject({ address: MOD, module: 'holder' });
    expect(table.symbolize(MOD + 0x44n)).toMatchObject({ name: 'probe', offset: 4, module: 'holder' });
    expect(table.lookup('no_such_symbol')).toBeUndefined();
    expect(loads()).toBe(1);
    expect(table.source).toBe('modules > kallsyms');
  });

  it('lists the modules first in all() and source, as before they were read lazily', () => {
    const { table, loads } = combined();
    expect(table.source).toBe('modules > kallsyms');
    expect([...table.all()].map((s) => s.name)).toEqual(['holder_init', 'probe', '_text', 'schedule', '_end']);
    expect(loads()).toBe(1);
  });

  it('leaves out a late source that cannot be read, and reads it once', () => {
    let n = 0;
    const table = new CombinedSymbolTable([vmlinux()], { modules: { label: 'modules', load: () => { n++; return undefined; } } });
    expect(table.lookup('holder_init')).toBeUndefined();
    expect(table.symbolize(MOD)).toBeUndefined();
    expect(table.source).toBe('kallsyms');
    expect(n).toBe(1);
  });

  it('asks the modules first for every address when the image bounds are unknown', () => {
    let n = 0;
    const bare = new SortedSymbolTable('kallsyms', [{ name: 'schedule', type: 'T', address: TEXT }], { sizes: 'next', end: MOD + 0x1000n });
    const table = new CombinedSymbolTable([bare], { modules: { label: 'modules', load: () => { n++; return modules(); } } });
    expect(table.symbolize(MOD + 0x44n)).toMatchObject({ name: 'probe', module: 'holder' });
    expect(n).toBe(1);
  });
});
