/**
 * Layouts of kernels between and beyond the fixtures (6.1 and 5.10), on hand-built BTF: each
 * difference the code detects by shape, in the encoding the kernel commit it cites introduced.
 * (The mutex, rwsem, CFS/EEVDF and cgroup v1 encodings: test/kernel-shapes.test.ts; EEVDF's lag
 * arithmetic: test/sched.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { MemoryReader } from '../src/dump/dump.js';
import { staticContext } from '../src/context.js';
import { moduleLayout } from '../src/kernel/module/layout.js';
import { readModules } from '../src/symbols/modules.js';
import { cgroupId, pidsState } from '../src/kernel/cgroup/index.js';
import { declaredGlobalType, globalType } from '../src/types/well-known.js';
import { baseTypes, flatMemory, type Btf } from './synthetic.js';

const base = (): Btf => baseTypes().struct('list_head', 16, []).ptr('struct list_head');

/** flat synthetic memory at BASE */
function memory(size = 0x4000): { mem: MemoryReader; buf: Buffer; BASE: bigint } {
  const { mem, buf, BASE } = flatMemory(size);
  return { mem, buf, BASE };
}

describe('struct module: mem[] since v6.4 ("module: replace module_layout with module_memory", ac3b43283923)', () => {
  const b = base();
  b.struct('module_memory', 16, [['base', 'struct list_head *', 0], ['size', 'unsigned int', 8]]).array('struct module_memory', 7)
    .array('char', 56)
    .struct('mod_kallsyms', 32, [['symtab', 'struct list_head *', 0], ['num_symtab', 'unsigned int', 8], ['strtab', 'struct list_head *', 16], ['typetab', 'struct list_head *', 24]])
    .ptr('struct mod_kallsyms')
    .struct('module', 256, [['list', 'struct list_head', 8], ['name', 'char[56]', 24], ['mem', 'struct module_memory[7]', 80], ['kallsyms', 'struct mod_kallsyms *', 192]]);
  const types = b.build();

  it('regions are mem[MOD_TEXT..]: one base and size each, no text_size', () => {
    const l = moduleLayout(types);
    expect(l.module).toEqual({ list: 8, name: 24, nameLen: 56, kallsyms: 192 });
    expect(l.regions).toHaveLength(7);
    expect(l.regions[0]).toEqual({ label: 'mem[0]', base: 80, size: 88 });
    expect(l.regions[6]).toEqual({ label: 'mem[6]', base: 176, size: 184 });
    expect(l.modKallsyms.typetab).toBe(24);
  });

  it('a module in such a kernel: name, regions and its symbols read from memory', () => {
    const { mem, buf, BASE } = memory();
    const head = BASE, mod = BASE + 0x100n, ks = BASE + 0x400n, symtab = BASE + 0x500n, strtab = BASE + 0x600n;
    const text = 0xffffffffc0000000n;
    const w64 = (a: bigint, v: bigint) => buf.writeBigUInt64LE(v, Number(a - BASE));
    w64(head, mod + 8n); w64(mod + 8n, head); // modules → mod.list → modules
    buf.write('vaat_six_four\0', Number(mod - BASE) + 24);
    w64(mod + 80n, text); buf.writeUInt32LE(0x2000, Number(mod - BASE) + 88); // mem[MOD_TEXT]
    w64(mod + 192n, ks);
    w64(ks, symtab); buf.writeUInt32LE(2, Number(ks - BASE) + 8); w64(ks + 16n, strtab);
    buf.write('\0spin_fn\0', Number(strtab - BASE));
    // Elf64_Sym[1]: name 1, STT_FUNC|STB_LOCAL, section 3, value
    const s = Number(symtab - BASE) + 24;
    buf.writeUInt32LE(1, s); buf[s + 4] = 2; buf.writeUInt16LE(3, s + 6); buf.writeBigUInt64LE(text + 0x40n, s + 8);
    const table = readModules(mem, head, moduleLayout(types));
    const m = table.module('vaat_six_four')!;
    expect(m.regions).toEqual([{ label: 'mem[0]', start: text, end: text + 0x2000n }]);
    expect(table.lookup('spin_fn')?.address).toBe(text + 0x40n);
    expect(m.elfSymbols).toEqual([{ name: 'spin_fn', shndx: 3, address: text + 0x40n }]);
    expect(table.moduleAt(text + 0x1fffn)?.name).toBe('vaat_six_four');
  });
});

describe('cgroup ids', () => {
  it('v5.4: the int cgrp->id (kn->id a union of ino and generation); v5.5+: cgrp->kn->id ("cgroup: use cgrp->kn->id as the cgroup ID", 743210386c03)', () => {
    const { mem, buf, BASE } = memory();
    const old = base().struct('kernfs_node', 16, []).ptr('struct kernfs_node')
      .struct('cgroup', 32, [['id', 'int', 8], ['kn', 'struct kernfs_node *', 16]]).build();
    const now = base().struct('kernfs_node', 16, [['id', 'long long unsigned int', 8]]).ptr('struct kernfs_node')
      .struct('cgroup', 32, [['kn', 'struct kernfs_node *', 16]]).build();
    const cg = BASE + 0x100n, kn = BASE + 0x200n;
    buf.writeInt32LE(17, Number(cg - BASE) + 8);
    buf.writeBigUInt64LE(kn, Number(cg - BASE) + 16);
    buf.writeBigUInt64LE((1n << 32n) | 23n, Number(kn - BASE) + 8); // wrap count 1, idr id 23
    const vmOf = (types: ReturnType<Btf['build']>) => staticContext({ mem, types });
    expect(cgroupId(vmOf(old), cg)).toBe(17);
    expect(cgroupId(vmOf(now), cg)).toBe(Number((1n << 32n) | 23n));
  });
});

describe('pids controller events', () => {
  it('events_limit before v6.11, events[PIDCG_MAX] since ("cgroup/pids: Make event counters hierarchical")', () => {
    const { mem, buf, BASE } = memory();
    const shared = (b: Btf) => b.struct('atomic64', 8, [['counter', 'long long int', 0]]).typedef('atomic64_t', 'struct atomic64').struct('cgroup_subsys_state', 64, []);
    const old = shared(base()).struct('pids_cgroup', 96, [['css', 'struct cgroup_subsys_state', 0], ['counter', 'atomic64_t', 64], ['limit', 'atomic64_t', 72], ['events_limit', 'atomic64_t', 80]]).build();
    const b611 = shared(base()).enumOf('pids_cgroup_events', [['PIDCG_MAX', 0], ['PIDCG_FORKFAIL', 1], ['NR_PIDCG_EVENTS', 2]]).array('atomic64_t', 2);
    const now = b611.struct('pids_cgroup', 96, [['css', 'struct cgroup_subsys_state', 0], ['counter', 'atomic64_t', 64], ['limit', 'atomic64_t', 72], ['events', 'atomic64_t[2]', 80]]).build();
    const root = BASE, css = BASE + 0x100n;
    const w = (a: bigint, off: number, v: bigint) => buf.writeBigInt64LE(v, Number(a - BASE) + off);
    w(root, 72, 4194305n); // PIDS_MAX on the root
    w(css, 64, 9n); w(css, 72, 200n); w(css, 80, 4n); w(css, 88, 6n);
    const vmOf = (types: ReturnType<Btf['build']>) => staticContext({ mem, types });
    expect(pidsState(vmOf(old), css, root)).toEqual({ current: 9, max: 200, peak: null, eventsMax: 4 });
    // events[PIDCG_MAX] is the "max" line of pids.events; [PIDCG_FORKFAIL] (6 here) is pids.events.local's
    expect(pidsState(vmOf(now), css, root)).toEqual({ current: 9, max: 200, peak: null, eventsMax: 4 });
  });
});

describe('globals typed from declarations, by the types the kernel has', () => {
  it('before v5.10 there is no printk_ringbuffer: prb has no type, log_buf and its indexes do', () => {
    const t = base().struct('uts_namespace', 8, []).build();
    expect(declaredGlobalType(t, 'prb')).toBeNull();
    expect(t.typeName(globalType(t, 'log_buf')!)).toBe('char *');
    expect(t.typeName(globalType(t, 'log_first_idx')!)).toBe('u32');
    expect(t.sizeof(globalType(t, 'log_next_seq')!)).toBe(8);
    expect(t.typeName(globalType(t, 'init_uts_ns')!)).toBe('struct uts_namespace');
  });
});
