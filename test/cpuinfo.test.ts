/** cpuinfo: topology against extra.json `topology`, TLB state against extra.json `tlb`, on every dump file; the CLI. */
import { afterAll, describe, expect, it } from 'vitest';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { cpuTopologyAll } from '../src/kernel/sched/topology.js';
import { cpuTlbStates, tlbFlags } from '../src/kernel/mm/tlb.js';
import { cpuListString } from '../src/object/helpers.js';
import { arm64Topology } from '../src/arch/arm64/topology.js';
import { arm64Tlb } from '../src/arch/arm64/tlb.js';
import { cpuMask, nrCpuIds } from '../src/kernel/cpu.js';
import { Output } from '../src/output/sink.js';
import cpuinfo, { type CpuinfoResult } from '../commands/cpuinfo.js';
import { dumps, manifest, primaryTruth, truth, type Json } from './fixtures.js';
import { runScript, vaat, vaatJson } from './cli.js';

const open: Vmcore[] = [];
afterAll(() => { for (const vm of open) vm.close(); });
const hex = (v: bigint) => `0x${v.toString(16)}`;

describe.each(dumps)('$scenario/$name', (d) => {
  const vm = openVmcore(d.path);
  open.push(vm);
  const extra = truth(d.scenario, 'extra.json');

  const arm64 = extra.topology.arch === 'arm64';

  (arm64 ? it : it.skip)(`arm64 topology matches extra.json (cpu_topology[], MPIDR, MIDR) and the QEMU -smp line${arm64 ? '' : ' (arm64 dumps only)'}`, () => {
    const want = extra.topology;
    const possible = cpuMask(vm, 'possible');
    const rows = arm64Topology(vm, possible, nrCpuIds(vm), new Set(cpuMask(vm, 'online')), new Set(cpuMask(vm, 'present')));
    expect([cpuListString(possible), cpuListString(rows.filter((c) => c.present).map((c) => c.cpu)), cpuListString(rows.filter((c) => c.online).map((c) => c.cpu))])
      .toEqual([want.possible, want.present, want.online]);
    const hexOrNull = (v: bigint | null) => (v === null ? null : hex(v));
    expect(rows.map((c) => ({
      cpu: c.cpu, online: c.online, package_id: c.packageId, cluster_id: c.clusterId, core_id: c.coreId, thread_id: c.threadId, llc_id: c.llcId,
      mpidr: hexOrNull(c.mpidr), midr: hexOrNull(c.midr), numa_node: c.numaNode,
      smt_siblings_list: c.smtSiblings, core_siblings_list: c.coreSiblings, cluster_siblings_list: c.clusterSiblings, llc_siblings_list: c.llcSiblings,
    }))).toEqual(want.cpus.map((c: Json) => ({
      cpu: c.cpu, online: c.online, package_id: c.package_id, cluster_id: c.cluster_id, core_id: c.core_id, thread_id: c.thread_id, llc_id: c.llc_id,
      mpidr: c.mpidr, midr: c.midr, numa_node: c.numa_node,
      smt_siblings_list: c.smt_siblings_list, core_siblings_list: c.core_siblings_list, cluster_siblings_list: c.cluster_siblings_list, llc_siblings_list: c.llc_siblings_list,
    })));
    // the MANIFEST's -smp sockets × cores × threads: one package per socket, cores × threads CPUs each
    const smp = /-smp (\d+),sockets=(\d+),cores=(\d+),threads=(\d+)/.exec(manifest(d.scenario))!;
    expect(new Set(rows.map((c) => c.packageId)).size).toBe(Number(smp[2]));
    expect(rows.filter((c) => c.packageId === rows[0].packageId)).toHaveLength(Number(smp[3]) * Number(smp[4]));
  });

  (arm64 ? it : it.skip)(`arm64 TLB state matches extra.json: ASIDs, generations and each CPU's active_mm${arm64 ? '' : ' (arm64 dumps only)'}`, () => {
    const want = extra.tlb;
    const s = arm64Tlb(vm, cpuMask(vm, 'possible'));
    expect(s.asidBits).toBe(want.asid_bits);
    expect(s.cpus.map((c) => ({
      cpu: c.cpu, active_asid_raw: hex(c.activeAsidRaw), active_asid: c.activeAsid, active_generation: Number(c.activeGeneration),
      reserved_asid_raw: hex(c.reservedAsidRaw), reserved_asid: c.reservedAsid,
      rq_curr: { pid: c.curr.pid, comm: c.curr.comm, mm: hex(c.curr.mm), active_mm: hex(c.curr.activeMm), active_mm_is_init_mm: c.activeMmIsInitMm },
      active_mm_context_id: hex(c.mmContextId), active_mm_asid: c.mmAsid, active_mm_generation: Number(c.mmGeneration),
      active_asid_matches_active_mm: c.activeAsidMatchesMm,
      active_mm_owner: c.owner && { pid: c.owner.pid, comm: c.owner.comm, task_struct: hex(c.owner.task) },
    }))).toEqual(want.cpus);
  });

  (arm64 ? it.skip : it)(`topology matches extra.json and the QEMU -smp line${arm64 ? ' (x86 dumps only: cpuinfo_x86, APIC ids)' : ''}`, () => {
    const want = extra.topology;
    const topo = cpuTopologyAll(vm);
    expect([cpuListString(topo.possible), cpuListString(topo.present), cpuListString(topo.online)]).toEqual([want.possible, want.present, want.online]);
    expect(topo.globals).toMatchObject({
      nrCpuIds: want.globals.nr_cpu_ids, smpNumSiblings: want.globals.smp_num_siblings,
      maxLogicalPackages: want.globals.__max_logical_packages, maxSmtThreads: want.globals.__max_smt_threads,
    });
    // cpuinfo_x86.smt_active arrived after 5.10 (drgn's null there); the sibling counts say the same
    const smtActive = want.summary.smt_active ?? (want.summary.smt_sibling_counts as number[]).some((n) => n > 1);
    expect([topo.vendor, topo.model, topo.smtActive]).toEqual([want.summary.vendor, want.summary.model, smtActive]);
    expect(topo.cpus.map((c) => ({
      cpu: c.cpu, online: c.online, package_id: c.packageId, core_id: c.coreId, die_id: c.dieId,
      logical_package_id: c.logicalPackageId, logical_die_id: c.logicalDieId, apicid: c.apicid, initial_apicid: c.initialApicid,
      smt_siblings: cpuListString(c.smtSiblings), smt_siblings_list: c.smtSiblings, core_siblings: cpuListString(c.coreSiblings),
      core_siblings_list: c.coreSiblings, die_siblings: cpuListString(c.dieSiblings ?? []), die_siblings_list: c.dieSiblings,
      numa_node: c.numaNode, thread: c.thread,
    }))).toEqual(want.cpus.map((c: Json) => { const { qemu_predicts: q, ...rest } = c; return { ...rest, thread: q.thread }; }));
    // summary.packages and the MANIFEST's -smp sockets × cores × threads
    expect(Object.fromEntries(topo.matrix.map((p) => [String(p.package), p.cores.flatMap((k) => k.cpus)]))).toEqual(want.summary.packages);
    const smp = /-smp (\d+),sockets=(\d+),cores=(\d+),threads=(\d+)/.exec(manifest(d.scenario))!;
    expect([topo.matrix.length, topo.matrix[0].cores.length, topo.matrix[0].cores[0].cpus.length]).toEqual([Number(smp[2]), Number(smp[3]), Number(smp[4])]);
  });

  (arm64 ? it.skip : it)(`TLB state matches extra.json for every CPU and field${arm64 ? ' (x86 dumps only: cpu_tlbstate, PCIDs)' : ''}`, () => {
    const want = extra.tlb;
    const s = cpuTlbStates(vm);
    expect([s.nrDynAsids, s.pcid]).toEqual([want.tlb_nr_dyn_asids, want.pcid]);
    const task = (t: { pid: number; comm: string; task: bigint } | null) => t && { pid: t.pid, comm: t.comm, task_struct: hex(t.task) };
    expect(s.cpus.map((c) => ({
      cpu: c.cpu, loaded_mm: hex(c.loadedMm), is_init_mm: c.isInitMm, loaded_mm_asid: c.loadedMmAsid, next_asid: c.nextAsid,
      invalidate_other: c.invalidateOther,
      ctxs: c.ctxs.map((x) => ({ asid: x.asid, ctx_id: Number(x.ctxId), tlb_gen: Number(x.tlbGen) })),
      is_lazy: c.isLazy, is_lazy_source: c.isLazySource, mm_ctx_id: Number(c.mmCtxId), mm_tlb_gen: Number(c.mmTlbGen),
      mm_owner_source: c.ownerSource, mm_owner: task(c.owner),
      tasks_with_mm: c.tasksWithMm.map((t) => [t.pid, t.comm]), tasks_with_active_mm_only: c.tasksWithActiveMmOnly.map((t) => [t.pid, t.comm]),
      rq_curr: { pid: c.rqCurr.pid, comm: c.rqCurr.comm, mm: hex(c.rqCurr.mm), active_mm: hex(c.rqCurr.activeMm) },
      slot_matches_mm: c.slotMatchesMm, slot_tlb_gen_current: c.slotTlbGenCurrent,
    }))).toEqual(want.cpus);
    // every slot is current and no lazy CPU sits on a dead mm in these dumps: nothing is flagged
    expect(s.cpus.flatMap((c) => c.flags)).toEqual([]);
  });
});

describe('vaat cpuinfo', () => {
  const d = dumps.find((x) => x.scenario === 'qemu-dump')!;
  const t = primaryTruth(d.scenario);
  const extra = truth(d.scenario, 'extra.json');

  it('-i --json: topology with what each CPU was doing, the panic CPU marked', async () => {
    const r = await vaatJson(['cpuinfo', d.path, '-i']);
    expect(r.tlb).toBeUndefined();
    expect(r.topology.panicCpu).toBe(t.panic.panic_cpu_variable);
    expect(r.topology.online).toEqual(t.cpus.online);
    expect(r.topology.cpus).toHaveLength(4);
    for (const c of r.topology.cpus) {
      const rq = extra.tlb.cpus[c.cpu].rq_curr;
      expect(c.doing).toMatchObject({ pid: rq.pid, comm: rq.comm, state: c.cpu === r.topology.panicCpu ? 'panic' : rq.pid === 0 ? 'idle' : 'running' });
      expect(c).toMatchObject({ packageId: extra.topology.cpus[c.cpu].package_id, coreId: extra.topology.cpus[c.cpu].core_id, numaNode: 0, llcId: expect.any(Number) });
    }
    expect(r.topology.matrix).toEqual([{ package: 0, cores: [{ core: 0, cpus: [0] }, { core: 1, cpus: [1] }] }, { package: 1, cores: [{ core: 0, cpus: [2] }, { core: 1, cpus: [3] }] }]);
  });

  it('-t --json and the table', async () => {
    const r = await vaatJson(['cpuinfo', d.path, '-t']);
    expect(r.topology).toBeUndefined();
    expect(r.tlb.cpus.map((c: Json) => [c.loadedMm, c.owner?.pid ?? null, c.ctxs[0].ctxId, c.mmTlbGen, c.flags]))
      .toEqual(extra.tlb.cpus.map((c: Json) => [c.loaded_mm, c.mm_owner?.pid ?? null, c.ctxs[0].ctx_id, c.mm_tlb_gen, []]));
    const h = await vaat(['cpuinfo', d.path, '-t']);
    expect(h.status).toBe(0);
    const o = extra.tlb.cpus[0];
    expect(h.stdout).toMatch(new RegExp(`^\\s*0\\s+${o.loaded_mm}\\s+${o.mm_owner.pid} ${o.mm_owner.comm}\\s+0\\s+${o.ctxs[0].ctx_id}/${o.ctxs[0].tlb_gen}\\s+${o.mm_ctx_id}/${o.mm_tlb_gen}\\s+-\\s+\\S+.*ok$`, 'm'));
    expect(h.stdout).toMatch(/^\s*3\s+0x[0-9a-f]+\s+init_mm\s/m);
  });

  it('flags a lagging generation, a foreign slot and a lazy CPU on a dead mm', () => {
    const base = { asid: 0, mmCtxId: 7n, mmTlbGen: 5n, isLazy: false, ownerExited: false, owner: { pid: 9, comm: 'x', task: 1n }, mmUsers: 1 };
    expect(tlbFlags({ ...base, slot: { asid: 0, ctxId: 7n, tlbGen: 5n } })).toEqual([]);
    expect(tlbFlags({ ...base, slot: { asid: 0, ctxId: 7n, tlbGen: 4n } }).map((f) => f.flag)).toEqual(['flush-pending']);
    expect(tlbFlags({ ...base, slot: { asid: 0, ctxId: 6n, tlbGen: 9n } }).map((f) => f.flag)).toEqual(['slot-mismatch']);
    const dead = tlbFlags({ ...base, slot: { asid: 0, ctxId: 7n, tlbGen: 5n }, isLazy: true, ownerExited: true, owner: null, mmUsers: 0 });
    expect(dead).toEqual([{ flag: 'lazy-on-exited-mm', reason: 'lazy TLB on an mm whose owner is gone (mm_users 0)' }]);
    // lazy on a live mm (cgroup-mutex-hung's CPU 3 borrows sleep's mm for khungtaskd) is normal
    expect(tlbFlags({ ...base, slot: { asid: 0, ctxId: 7n, tlbGen: 5n }, isLazy: true })).toEqual([]);
  });

  it('flags are red in the human output with their reason', () => {
    const vm = openVmcore(d.path);
    open.push(vm);
    const r = cpuinfo.run({ vm, options: { tlb: true }, args: [] }) as CpuinfoResult;
    const c0 = r.tlb!.cpus[0];
    c0.flags = [{ flag: 'flush-pending', reason: 'ASID 0 tlb_gen 4 lags the mm\'s 5' }];
    const saved = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    try {
      const o = new Output({ stream: { isTTY: true } });
      cpuinfo.render(r, o, { tlb: true });
      expect(o.text()).toContain('\u001b[31mflush-pending');
      expect(o.text()).toContain("CPU 0: ASID 0 tlb_gen 4 lags the mm's 5");
    } finally {
      if (saved !== undefined) process.env.NO_COLOR = saved;
    }
  });

  it('--script prints the same per-CPU values', async () => {
    {
      const runs = async (flag: string) => (await runScript(['cpuinfo', d.path, flag])).trim().split('\n');
      expect(await runs('-i')).toEqual(extra.topology.cpus.map((c: Json) => `cpu ${c.cpu} package ${c.package_id} core ${c.core_id} node ${c.numa_node}`));
      expect(await runs('-t')).toEqual(extra.tlb.cpus.map((c: Json) => `cpu ${c.cpu} mm ${c.loaded_mm} slot ${c.ctxs[c.loaded_mm_asid].ctx_id} ${c.ctxs[c.loaded_mm_asid].tlb_gen} mm ${c.mm_ctx_id} ${c.mm_tlb_gen} lazy ${c.is_lazy}`));
    }
  });
});
