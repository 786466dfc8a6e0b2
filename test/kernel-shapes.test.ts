/**
 * Layouts the model tells apart by the shape of the types, each on a hand-built kernel (BTF and
 * memory written here) in the encoding the kernel commit it cites introduced, for the kernels no
 * fixture has: mutex before and after v4.10 and PREEMPT_RT's rtmutex-based one (with both
 * rt_mutex_waiter layouts), rw_semaphore before and after v5.3, cfs_rq before EEVDF, with v6.6
 * EEVDF, v6.8's deadline-sorted tree and v6.14's renames, a cgroup v1 hierarchy beside v2, and a
 * module's sect_attrs before v5.8, after it and after v6.14.
 */
import { describe, expect, it } from 'vitest';
import { staticContext } from '../src/context.js';
import { KObject } from '../src/object/kobject.js';
import { SortedSymbolTable } from '../src/symbols/symtab.js';
import { mutexForEachWaiter, mutexOwner } from '../src/kernel/locking/mutex.js';
import { rwsemOwner, rwsemWaiters } from '../src/kernel/locking/rwsem.js';
import { cfsRqInfo } from '../src/kernel/sched/cfs.js';
import { cgroupRoots } from '../src/kernel/cgroup/index.js';
import { moduleSectionAddresses } from '../src/kernel/module/sections.js';
import { baseTypes, flatMemory, type Btf } from './synthetic.js';

/** list_head, an opaque task_struct and the atomics every lock type is built from */
const lockTypes = (): Btf => baseTypes()
  .struct('list_head', 16, [['next', 'struct list_head *', 0], ['prev', 'struct list_head *', 8]])
  .struct('task_struct', 64, []).ptr('struct task_struct')
  .struct('atomic_s', 4, [['counter', 'int', 0]]).typedef('atomic_t', 'struct atomic_s')
  .struct('atomic_long_s', 8, [['counter', 'long int', 0]]).typedef('atomic_long_t', 'struct atomic_long_s')
  .struct('rb_node', 24, [['__rb_parent_color', 'long unsigned int', 0], ['rb_right', 'struct rb_node *', 8], ['rb_left', 'struct rb_node *', 16]])
  .struct('rb_root', 8, [['rb_node', 'struct rb_node *', 0]])
  .struct('rb_root_cached', 16, [['rb_root', 'struct rb_root', 0], ['rb_leftmost', 'struct rb_node *', 8]]);

/** one lock at LOCK, two queued waiters (W1 first) of tasks T1 and T2, held by OWNER */
function lockMemory() {
  const m = flatMemory();
  const { BASE } = m;
  return { ...m, LOCK: BASE + 0x100n, W1: BASE + 0x200n, W2: BASE + 0x300n, OWNER: BASE + 0x1000n, T1: BASE + 0x1100n, T2: BASE + 0x1200n };
}

/** link waiters (at their list_head) on the list_head at `head`, in order */
function linkList(w64: (a: bigint, v: bigint) => void, head: bigint, nodes: bigint[]): void {
  const ring = [head, ...nodes];
  ring.forEach((n, i) => { w64(n, ring[(i + 1) % ring.length]); w64(n + 8n, ring[(i + ring.length - 1) % ring.length]); });
}

describe('struct mutex', () => {
  it('since v4.10 (3ca0ff571b09 "locking/mutex: Rework mutex::owner"): owner word with flag bits, FIFO wait_list', () => {
    const types = lockTypes()
      .struct('mutex', 32, [['owner', 'atomic_long_t', 0], ['wait_lock', 'unsigned int', 8], ['wait_list', 'struct list_head', 16]])
      .struct('mutex_waiter', 24, [['list', 'struct list_head', 0], ['task', 'struct task_struct *', 16]]).build();
    const { mem, w64, LOCK, W1, W2, OWNER, T1, T2 } = lockMemory();
    w64(LOCK, OWNER | 0x1n); // MUTEX_FLAG_WAITERS
    linkList(w64, LOCK + 16n, [W1, W2]);
    w64(W1 + 16n, T1); w64(W2 + 16n, T2);
    const vm = staticContext({ mem, types });
    const o = mutexOwner(vm, LOCK);
    expect(o).toMatchObject({ encoding: 'owner-flags', raw: OWNER | 1n, ownerAddress: OWNER, locked: true, flags: 1, flagNames: ['WAITERS'], count: null });
    // no task list in this kernel: the owner's task is unknown, never a made-up one
    expect(o.owner).toBeNull();
    expect([...mutexForEachWaiter(vm, LOCK)].map((w) => [w.waiter, w.taskAddress])).toEqual([[W1, T1], [W2, T2]]);
  });

  it('before v4.10: atomic_t count (1 free, 0 locked, < 0 locked with waiters) and a plain owner pointer', () => {
    const types = lockTypes()
      .struct('mutex', 32, [['count', 'atomic_t', 0], ['wait_lock', 'unsigned int', 4], ['wait_list', 'struct list_head', 8], ['owner', 'struct task_struct *', 24]])
      .struct('mutex_waiter', 24, [['list', 'struct list_head', 0], ['task', 'struct task_struct *', 16]]).build();
    const { mem, buf, BASE, w64, LOCK, W1, OWNER, T1 } = lockMemory();
    buf.writeInt32LE(-1, Number(LOCK - BASE));
    w64(LOCK + 24n, OWNER);
    linkList(w64, LOCK + 8n, [W1]);
    w64(W1 + 16n, T1);
    const vm = staticContext({ mem, types });
    expect(mutexOwner(vm, LOCK)).toMatchObject({ encoding: 'count', count: -1, locked: true, ownerAddress: OWNER, flagNames: ['WAITERS(count<0)'] });
    expect([...mutexForEachWaiter(vm, LOCK)].map((w) => w.taskAddress)).toEqual([T1]);
    buf.writeInt32LE(1, Number(LOCK - BASE));
    w64(LOCK + 24n, 0n);
    expect(mutexOwner(vm, LOCK)).toMatchObject({ encoding: 'count', count: 1, locked: false, ownerAddress: 0n, flagNames: [] });
  });

  // PREEMPT_RT: bb630f9f7a7d "locking/rtmutex: Add mutex variant for RT" (v5.15) makes struct mutex
  // an rt_mutex_base; waiters sit in an rbtree by priority. f7853c342418 "locking/rtmutex: Fix
  // task->pi_waiters integrity" (v6.5-rc4) moved rt_mutex_waiter.tree_entry into tree.entry.
  const rtMutex = (waiter: 'tree.entry' | 'tree_entry') => {
    const b = lockTypes()
      .struct('rt_mutex_base', 32, [['wait_lock', 'unsigned int', 0], ['waiters', 'struct rb_root_cached', 8], ['owner', 'struct task_struct *', 24]])
      .struct('mutex', 32, [['rtmutex', 'struct rt_mutex_base', 0]]);
    if (waiter === 'tree.entry') {
      b.struct('rt_waiter_node', 40, [['entry', 'struct rb_node', 0], ['prio', 'int', 24], ['deadline', 'u64', 32]])
        .struct('rt_mutex_waiter', 96, [['tree', 'struct rt_waiter_node', 0], ['pi_tree', 'struct rt_waiter_node', 40], ['task', 'struct task_struct *', 80]]);
    } else {
      b.struct('rt_mutex_waiter', 64, [['tree_entry', 'struct rb_node', 0], ['pi_tree_entry', 'struct rb_node', 24], ['task', 'struct task_struct *', 48]]);
    }
    return { types: b.build(), taskOffset: waiter === 'tree.entry' ? 80n : 48n };
  };

  for (const layout of ['tree.entry', 'tree_entry'] as const) {
    it(`PREEMPT_RT: an rt_mutex inside, owner bit 0 HAS_WAITERS, waiters in priority order (rt_mutex_waiter.${layout})`, () => {
      const { types, taskOffset } = rtMutex(layout);
      const { mem, w64, LOCK, W1, W2, OWNER, T1, T2 } = lockMemory();
      w64(LOCK + 24n, OWNER | 1n);
      // the tree: W2 at the root, W1 its left child (the top waiter)
      w64(LOCK + 8n, W2); w64(LOCK + 16n, W1);
      w64(W2 + 16n, W1);
      w64(W1 + taskOffset, T1); w64(W2 + taskOffset, T2);
      const vm = staticContext({ mem, types });
      expect(mutexOwner(vm, LOCK)).toMatchObject({ encoding: 'rt_mutex', raw: OWNER | 1n, ownerAddress: OWNER, locked: true, flagNames: ['HAS_WAITERS'] });
      expect([...mutexForEachWaiter(vm, LOCK)].map((w) => [w.waiter, w.taskAddress])).toEqual([[W1, T1], [W2, T2]]);
    });
  }
});

describe('struct rw_semaphore', () => {
  const waiterTypes = (b: Btf, timeout: boolean) => b
    .enumOf('rwsem_waiter_type', [['RWSEM_WAITING_FOR_WRITE', 0], ['RWSEM_WAITING_FOR_READ', 1]])
    .struct('rwsem_waiter', timeout ? 40 : 32, [['list', 'struct list_head', 0], ['task', 'struct task_struct *', 16], ['type', 'enum rwsem_waiter_type', 24],
      ...(timeout ? [['timeout', 'long unsigned int', 32] as [string, string, number]] : [])]);

  it('since v5.3 (94a9717b3c40 "locking/rwsem: Make rwsem->owner an atomic_long_t"): count bits and reader count, owner word with READER_OWNED', () => {
    const types = waiterTypes(lockTypes()
      .struct('rw_semaphore', 40, [['count', 'atomic_long_t', 0], ['owner', 'atomic_long_t', 8], ['wait_lock', 'unsigned int', 16], ['wait_list', 'struct list_head', 24]]), true).build();
    const { mem, w64, w32, LOCK, W1, W2, OWNER, T1, T2 } = lockMemory();
    const vm = staticContext({ mem, types });
    // a writer holds it (RWSEM_WRITER_LOCKED) with waiters queued (RWSEM_FLAG_WAITERS)
    w64(LOCK, 0x3n); w64(LOCK + 8n, OWNER);
    linkList(w64, LOCK + 24n, [W1, W2]);
    w64(W1 + 16n, T1); w64(W1 + 32n, 4294937296n);
    w64(W2 + 16n, T2); w64(W2 + 24n, 0n);
    w32(W1 + 24n, 1); // RWSEM_WAITING_FOR_READ
    expect(rwsemOwner(vm, LOCK)).toMatchObject({ encoding: 'v5.3', state: 'writer', ownerAddress: OWNER, readers: 0, countFlags: ['WAITERS'], ownerFlags: [] });
    expect([...rwsemWaiters(vm, LOCK)].map((w) => [w.taskAddress, w.type, w.timeout])).toEqual([[T1, 'read', 4294937296n], [T2, 'write', 0n]]);
    // two readers (count bits 8..), the owner word the last reader with RWSEM_READER_OWNED
    w64(LOCK, 2n << 8n); w64(LOCK + 8n, OWNER | 1n);
    expect(rwsemOwner(vm, LOCK)).toMatchObject({ state: 'readers', readers: 2, ownerAddress: OWNER, ownerFlags: ['READER_OWNED'], countFlags: [] });
  });

  it('before v5.3: a bias-based count (active lockers in the low 32 bits) and a task_struct pointer owner', () => {
    const types = waiterTypes(lockTypes()
      .struct('rw_semaphore', 40, [['count', 'atomic_long_t', 0], ['wait_list', 'struct list_head', 8], ['wait_lock', 'unsigned int', 24], ['owner', 'struct task_struct *', 32]]), false).build();
    const { mem, w64, LOCK, W1, OWNER, T1 } = lockMemory();
    const vm = staticContext({ mem, types });
    // three readers hold it: RWSEM_ACTIVE_READ_BIAS (1) each; owner the last reader | RWSEM_READER_OWNED
    w64(LOCK, 3n); w64(LOCK + 32n, OWNER | 1n);
    linkList(w64, LOCK + 8n, []);
    expect(rwsemOwner(vm, LOCK)).toMatchObject({ encoding: 'bias', state: 'readers', readers: 3, ownerAddress: OWNER, ownerFlags: ['READER_OWNED'] });
    // a writer (RWSEM_ACTIVE_WRITE_BIAS = RWSEM_WAITING_BIAS + 1) with one waiter queued
    w64(LOCK, -0xffffffffn); w64(LOCK + 32n, OWNER);
    linkList(w64, LOCK + 8n, [W1]);
    w64(W1 + 16n, T1);
    expect(rwsemOwner(vm, LOCK)).toMatchObject({ encoding: 'bias', state: 'writer', readers: 0, ownerAddress: OWNER, ownerFlags: [] });
    // no timeout member before v5.3
    expect([...rwsemWaiters(vm, LOCK)].map((w) => [w.taskAddress, w.type, w.timeout])).toEqual([[T1, 'write', null]]);
  });
});

describe('struct cfs_rq', () => {
  const MINV = 1_000_000n;
  const cfsRq = (members: [string, string, number][], seMembers: [string, string, number][]) => baseTypes()
    .struct('sched_entity', 64, seMembers).ptr('struct sched_entity')
    .struct('cfs_rq', 64, members).build();
  const read = (types: ReturnType<typeof cfsRq>, fill: (w64: (a: bigint, v: bigint) => void, w32: (a: bigint, v: number) => void, q: bigint) => void) => {
    const { mem, w64, w32, BASE } = flatMemory();
    const q = BASE + 0x100n;
    fill(w64, w32, q);
    const vm = staticContext({ mem, types });
    return cfsRqInfo(vm, KObject.at(vm, q, 'struct cfs_rq'));
  };
  const counters = (w32: (a: bigint, v: number) => void, q: bigint) => { w32(q, 2); w32(q + 4n, 5); w32(q + 8n, 1); };

  it('before EEVDF (5.4..6.5): nr_running, h_nr_running, idle_h_nr_running; no average, a vruntime-sorted tree', () => {
    const types = cfsRq([['nr_running', 'unsigned int', 0], ['h_nr_running', 'unsigned int', 4], ['idle_h_nr_running', 'unsigned int', 8], ['min_vruntime', 'u64', 16]],
      [['vruntime', 'u64', 0]]);
    const info = read(types, (w64, w32, q) => { counters(w32, q); w64(q + 16n, MINV); });
    expect(info).toMatchObject({ nrRunning: 2, hNrRunning: 5, idleHNrRunning: 1, minVruntime: MINV, avgVruntime: null, order: 'vruntime', throttled: null });
  });

  const eevdfQueue: [string, string, number][] = [['min_vruntime', 'u64', 16], ['avg_vruntime', 'long long int', 24], ['avg_load', 'u64', 32], ['curr', 'struct sched_entity *', 40]];

  it('v6.6 EEVDF (af4cf40470c2 "sched/fair: Add cfs_rq::avg_vruntime"): the zero-lag point from avg_vruntime / avg_load, tree still by vruntime', () => {
    const types = cfsRq([['nr_running', 'unsigned int', 0], ['h_nr_running', 'unsigned int', 4], ['idle_h_nr_running', 'unsigned int', 8], ...eevdfQueue],
      [['vruntime', 'u64', 0], ['deadline', 'u64', 8], ['min_deadline', 'u64', 16]]);
    const info = read(types, (w64, w32, q) => { counters(w32, q); w64(q + 16n, MINV); w64(q + 24n, 7001n); w64(q + 32n, 2n); });
    expect(info).toMatchObject({ nrRunning: 2, hNrRunning: 5, idleHNrRunning: 1, avgVruntime: MINV + 3500n, order: 'vruntime' });
  });

  it('v6.8 (2227a957e1d5 "sched/eevdf: Sort the rbtree by virtual deadline"): sched_entity.min_vruntime augments a deadline-sorted tree', () => {
    const types = cfsRq([['nr_running', 'unsigned int', 0], ['h_nr_running', 'unsigned int', 4], ['idle_h_nr_running', 'unsigned int', 8], ...eevdfQueue],
      [['vruntime', 'u64', 0], ['deadline', 'u64', 8], ['min_vruntime', 'u64', 16]]);
    const info = read(types, (w64, w32, q) => { counters(w32, q); w64(q + 16n, MINV); w64(q + 24n, -7n); w64(q + 32n, 2n); });
    // a negative sum rounds down, as the kernel's division does
    expect(info).toMatchObject({ avgVruntime: MINV - 4n, order: 'deadline' });
  });

  it('v6.14 renames (736c55a02c47 nr_running → nr_queued, 7b8a702d9438 h_nr_running → h_nr_queued, 31898e7b87dd idle_h_nr_running → h_nr_idle)', () => {
    const types = cfsRq([['nr_queued', 'unsigned int', 0], ['h_nr_queued', 'unsigned int', 4], ['h_nr_idle', 'unsigned int', 8], ...eevdfQueue],
      [['vruntime', 'u64', 0], ['deadline', 'u64', 8], ['min_vruntime', 'u64', 16]]);
    const info = read(types, (w64, w32, q) => { counters(w32, q); w64(q + 16n, MINV); w64(q + 24n, 0n); w64(q + 32n, 0n); });
    expect(info).toMatchObject({ nrRunning: 2, hNrRunning: 5, idleHNrRunning: 1, minVruntime: MINV, avgVruntime: MINV, order: 'deadline' });
  });
});

describe('cgroup v1 hierarchies beside v2', () => {
  it('cgroup_roots: cgrp_dfl_root first, then each mounted v1 root with its name= and bound controllers', () => {
    const types = baseTypes()
      .struct('list_head', 16, [['next', 'struct list_head *', 0], ['prev', 'struct list_head *', 8]])
      .ptr('char').struct('cgroup_subsys', 8, [['name', 'char *', 0]])
      .struct('cgroup_subsys_state', 8, []).ptr('struct cgroup_subsys_state').array('struct cgroup_subsys_state *', 2)
      .struct('cgroup', 16, [['subsys', 'struct cgroup_subsys_state *[2]', 0]])
      .array('char', 64)
      .struct('cgroup_root', 104, [['cgrp', 'struct cgroup', 0], ['hierarchy_id', 'int', 16], ['subsys_mask', 'unsigned int', 20], ['root_list', 'struct list_head', 24], ['name', 'char[64]', 40]])
      .build();
    const { mem, buf, BASE, w64, w32 } = flatMemory();
    const subsys = BASE, dfl = BASE + 0x100n, v1 = BASE + 0x200n, roots = BASE + 0x300n, cpu = BASE + 0x400n, memory = BASE + 0x410n;
    // cgroup_subsys[]: pointers to each controller's struct cgroup_subsys, whose name points at its string
    const ss = [BASE + 0x500n, BASE + 0x510n];
    w64(subsys, ss[0]); w64(subsys + 8n, ss[1]); w64(ss[0], cpu); w64(ss[1], memory);
    buf.write('cpu\0', Number(cpu - BASE)); buf.write('memory\0', Number(memory - BASE));
    w32(dfl + 16n, 0); w32(dfl + 20n, 0b10); // v2 holds memory
    w32(v1 + 16n, 3); w32(v1 + 20n, 0b01); buf.write('cpu\0', Number(v1 - BASE) + 40); // mount -t cgroup -o cpu,name=cpu
    linkList(w64, roots, [dfl + 24n, v1 + 24n]);
    const symbols = new SortedSymbolTable('synthetic', [
      { name: 'cgroup_subsys', address: subsys, type: 'D' }, { name: 'cgrp_dfl_root', address: dfl, type: 'D' }, { name: 'cgroup_roots', address: roots, type: 'D' },
    ], { sizes: 'exact' });
    const vm = staticContext({ mem, types, symbols });
    expect(cgroupRoots(vm)).toEqual([
      { root: dfl, hierarchyId: 0, dfl: true, name: '', controllers: ['memory'], cgrp: dfl },
      { root: v1, hierarchyId: 3, dfl: false, name: 'cpu', controllers: ['cpu'], cgrp: v1 },
    ]);
  });
});

/**
 * A module's sections from mod->sect_attrs (src/kernel/module/sections.ts), in the three layouts:
 * before v5.8, after ed66f991bb19 "module: Refactor section attr into bin attribute" (v5.8), and
 * after v6.14's 34f5ec0f8252 / 4b2c11e4aaf7 / d8959b947a8d (no struct module_sect_attr: the
 * address in bin_attribute.private, the count only in grp.bin_attrs' NULL end).
 */
describe('module sections (sect_attrs)', () => {
  const MOD = 0x100n, ATTRS = 0x400n, NAMES = 0x1000n, LIST = 0x1800n;
  const SECTIONS: [string, bigint][] = [['.text', 0xffffffffc0001000n], ['.data', 0xffffffffc0003000n], ['.bss', 0xffffffffc0004000n]];
  /** the common types: struct attribute, bin_attribute, attribute_group and a module with sect_attrs */
  const sysfsTypes = (): Btf => baseTypes()
    .ptr('char')
    .struct('attribute', 16, [['name', 'char *', 0], ['mode', 'unsigned int', 8]])
    .struct('bin_attribute', 48, [['attr', 'struct attribute', 0], ['size', 'long unsigned int', 16], ['private', 'char *', 24]])
    .ptr('struct attribute').ptr('struct attribute *').ptr('struct bin_attribute').ptr('struct bin_attribute *')
    .struct('attribute_group', 32, [['name', 'char *', 0], ['attrs', 'struct attribute * *', 16], ['bin_attrs', 'struct bin_attribute * *', 24]]);
  /** memory with the section names written, and the module's sect_attrs pointer set */
  function memoryWithNames() {
    const m = flatMemory();
    SECTIONS.forEach(([name], i) => m.buf.write(name + '\0', Number(NAMES + BigInt(i * 16)), 'latin1'));
    m.w64(m.BASE + MOD, m.BASE + ATTRS); // module.sect_attrs at offset 0
    return m;
  }
  const nameAt = (base: bigint, i: number) => base + NAMES + BigInt(i * 16);
  const read = (mem: ReturnType<typeof flatMemory>['mem'], types: ReturnType<Btf['build']>, base: bigint) =>
    [...moduleSectionAddresses(staticContext({ mem, types }), base + MOD)!];

  it('before v5.8: module_sect_attr { mattr; name; address }, nsections of them', () => {
    const b = sysfsTypes()
      .struct('module_attribute', 40, [['attr', 'struct attribute', 0]])
      .struct('module_sect_attr', 56, [['mattr', 'struct module_attribute', 0], ['name', 'char *', 40], ['address', 'long unsigned int', 48]]);
    const types = b.array('struct module_sect_attr', 0)
      .struct('module_sect_attrs', 40, [['grp', 'struct attribute_group', 0], ['nsections', 'unsigned int', 32], ['attrs', 'struct module_sect_attr[0]', 40]])
      .ptr('struct module_sect_attrs').struct('module', 64, [['sect_attrs', 'struct module_sect_attrs *', 0]]).build();
    const { mem, BASE, w64, w32 } = memoryWithNames();
    w32(BASE + ATTRS + 32n, SECTIONS.length);
    SECTIONS.forEach(([, addr], i) => { const a = BASE + ATTRS + 40n + BigInt(i * 56); w64(a + 40n, nameAt(BASE, i)); w64(a + 48n, addr); });
    expect(read(mem, types, BASE)).toEqual(SECTIONS);
  });

  it('v5.8 (ed66f991bb19): module_sect_attr { battr; address }, the name in battr.attr.name', () => {
    const types = sysfsTypes()
      .struct('module_sect_attr', 56, [['battr', 'struct bin_attribute', 0], ['address', 'long unsigned int', 48]])
      .array('struct module_sect_attr', 0)
      .struct('module_sect_attrs', 40, [['grp', 'struct attribute_group', 0], ['nsections', 'unsigned int', 32], ['attrs', 'struct module_sect_attr[0]', 40]])
      .ptr('struct module_sect_attrs').struct('module', 64, [['sect_attrs', 'struct module_sect_attrs *', 0]]).build();
    const { mem, BASE, w64, w32 } = memoryWithNames();
    w32(BASE + ATTRS + 32n, SECTIONS.length);
    SECTIONS.forEach(([, addr], i) => { const a = BASE + ATTRS + 40n + BigInt(i * 56); w64(a, nameAt(BASE, i)); w64(a + 48n, addr); });
    expect(read(mem, types, BASE)).toEqual(SECTIONS);
  });

  it('v6.14 (34f5ec0f8252, 4b2c11e4aaf7, d8959b947a8d): bare bin_attributes, the address in private, counted by grp.bin_attrs', () => {
    const types = sysfsTypes()
      .array('struct bin_attribute', 0)
      .struct('module_sect_attrs', 32, [['grp', 'struct attribute_group', 0], ['attrs', 'struct bin_attribute[0]', 32]])
      .ptr('struct module_sect_attrs').struct('module', 64, [['sect_attrs', 'struct module_sect_attrs *', 0]]).build();
    const { mem, BASE, w64 } = memoryWithNames();
    w64(BASE + ATTRS + 24n, BASE + LIST); // grp.bin_attrs
    SECTIONS.forEach(([, addr], i) => {
      const a = BASE + ATTRS + 32n + BigInt(i * 48);
      w64(a, nameAt(BASE, i)); w64(a + 24n, addr); // attr.name, private
      w64(BASE + LIST + BigInt(i * 8), a);
    });
    w64(BASE + LIST + BigInt(SECTIONS.length * 8), 0n); // the list's NULL end
    expect(read(mem, types, BASE)).toEqual(SECTIONS);
  });

  it('no sect_attrs member (no CONFIG_SYSFS or CONFIG_KALLSYMS), or a NULL one: null, not an empty list', () => {
    const bare = baseTypes().struct('module', 64, [['state', 'unsigned int', 0]]).build();
    const { mem, BASE } = flatMemory();
    expect(moduleSectionAddresses(staticContext({ mem, types: bare }), BASE + MOD)).toBeNull();
    const types = sysfsTypes().struct('module_sect_attrs', 32, [['grp', 'struct attribute_group', 0]])
      .ptr('struct module_sect_attrs').struct('module', 64, [['sect_attrs', 'struct module_sect_attrs *', 0]]).build();
    expect(moduleSectionAddresses(staticContext({ mem, types }), BASE + MOD)).toBeNull();
  });
});
