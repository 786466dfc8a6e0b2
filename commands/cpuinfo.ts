/**
 * vaat cpuinfo: `-i` the CPU topology (package, die, core, thread, NUMA node, masks) and what each
 * CPU was doing at the crash; `-t` each CPU's TLB state (loaded mm and its owner, ASID slots against
 * the mm's generation, lazy mode) with suspicious CPUs flagged.
 */
import { defineCommand, scriptPrelude } from '../src/plugin.js';
import type { Cell, Output } from '../src/output/sink.js';
import { groupAlike } from '../src/output/cpu-rows.js';
import { hex } from '../src/output/style.js';
import { cpuListString, parseCpuList } from '../src/object/helpers.js';
import { NotFoundError } from '../src/errors/index.js';
import { cpuTopologyAll, type CpuTopology, type Topology } from '../src/kernel/sched/topology.js';
import { cpuTlbStates, type TlbSummary } from '../src/kernel/mm/tlb.js';
import { cpuCurr, cpuIdle } from '../src/kernel/cpu.js';
import { taskAt } from '../src/kernel/tasks.js';
import { panicCpu } from '../src/kernel/panic.js';
import { cpuMask, nrCpuIds } from '../src/kernel/cpu.js';
import { archOf } from '../src/arch/index.js';
import { arm64Topology, type Arm64CpuTopology } from '../src/arch/arm64/topology.js';
import { arm64Tlb, type Arm64Tlb } from '../src/arch/arm64/tlb.js';

interface CpuinfoOptions { info?: boolean; tlb?: boolean; cpus?: string }

export interface CpuDoing {
  /** 'idle', 'running' a task, or 'panic' (the CPU that panicked, running `pid`) */
  state: 'idle' | 'running' | 'panic';
  pid: number;
  comm: string;
  task: bigint;
}

export interface CpuTopologyRow extends CpuTopology { doing: CpuDoing | null }

export interface TopologyResult extends Omit<Topology, 'cpus'> {
  panicCpu: number | null;
  cpus: CpuTopologyRow[];
}

/** arm64's topology (cpu_topology[], MPIDR, MIDR) with what each CPU was doing */
export interface Arm64TopologyResult {
  possible: number[];
  present: number[];
  online: number[];
  active: number[];
  panicCpu: number | null;
  cpus: (Arm64CpuTopology & { doing: CpuDoing | null })[];
}

/** the model's records as they are: x86's cpu_tlbstate view, arm64's topology and global-ASID view */
export interface CpuinfoResult { topology?: TopologyResult; tlb?: TlbSummary; arm64Topology?: Arm64TopologyResult; arm64Tlb?: Arm64Tlb }

function renderArm64Topology(r: Arm64TopologyResult, out: Output, grouped: boolean): void {
  const c = out.c;
  out.kv([
    ['POSSIBLE', cpuListString(r.possible)], ['PRESENT', cpuListString(r.present)],
    ['ONLINE', cpuListString(r.online)], ['ACTIVE', cpuListString(r.active)], ['PANIC CPU', r.panicCpu],
  ]);
  out.line();
  const rows = r.cpus.map((p): Cell[] => {
    const d = p.doing;
    const what = !d ? '?' : d.state === 'idle' ? c.dim('idle') : `${d.pid} ${d.comm}`;
    return [p.cpu, p.packageId, p.clusterId, p.coreId, p.threadId, p.mpidr === null ? '?' : hex(p.mpidr), p.midr === null ? '?' : hex(p.midr), p.numaNode,
      p.online ? 'yes' : c.yellow('no'), cpuListString(p.smtSiblings), cpuListString(p.coreSiblings),
      d?.state === 'panic' ? c.red(`${what} (panic)`) : what];
  });
  out.table(grouped ? groupAlike(rows, r.cpus.map((p) => p.cpu)) : rows, { header: ['CPU', 'PKG', 'CLUSTER', 'CORE', 'THR', 'MPIDR', 'MIDR', 'NODE', 'ONLINE', 'SMT-SIBS', 'CORE-SIBS', 'DOING'], alignRight: [0, 1, 2, 3, 4, 7] });
}

function renderArm64Tlb(r: Arm64Tlb, out: Output): void {
  const c = out.c;
  out.kv([['ASID BITS', `${r.asidBits} (${r.asidBitsSource})`]]);
  out.line();
  out.table(r.cpus.map((s) => [s.cpu, hex(s.curr.activeMm), s.activeMmIsInitMm ? c.dim('init_mm') : s.owner ? `${s.owner.pid} ${s.owner.comm}` : c.dim('none'),
    `${s.activeAsid}/${s.activeGeneration}`, `${s.mmAsid}/${s.mmGeneration}`, s.activeAsidMatchesMm ? c.green('yes') : c.red('no'),
    s.ttbr0 === null ? '?' : hex(s.ttbr0), `${s.curr.pid} ${s.curr.comm}`]),
  { header: ['CPU', 'ACTIVE_MM', 'OWNER', 'ACTIVE ASID/GEN', 'MM ASID/GEN', 'MATCH', 'TTBR0', 'CURRENT'], alignRight: [0] });
}

function doing(vm: Parameters<typeof cpuCurr>[0], cpu: number, panic: number | null): CpuDoing | null {
  try {
    const curr = cpuCurr(vm, cpu);
    const t = taskAt(vm, curr);
    const state = cpu === panic ? 'panic' : curr === cpuIdle(vm, cpu) ? 'idle' : 'running';
    return { state, pid: t.pid, comm: t.comm, task: curr };
  } catch {
    return null; // runqueue unreadable (excluded page)
  }
}

/** cpu_llc_id of a CPU that never came up: BAD_APICID (arch/x86/include/asm/apicdef.h) */
const BAD_APICID = 0xffff;

function renderTopology(r: TopologyResult, out: Output, grouped: boolean): void {
  const c = out.c;
  out.kv([
    ['VENDOR', r.vendor], ['MODEL', r.model],
    ['POSSIBLE', cpuListString(r.possible)], ['PRESENT', cpuListString(r.present)],
    ['ONLINE', cpuListString(r.online)], ['ACTIVE', cpuListString(r.active)],
    ['PANIC CPU', r.panicCpu], ['SMT', r.smtActive ? 'active' : 'off'],
  ]);
  out.line();
  const rows = r.cpus.map((p): Cell[] => {
    const d = p.doing;
    const what = !p.online ? c.dim('offline') : !d ? '?' : d.state === 'idle' ? c.dim('idle') : `${d.pid} ${d.comm}`;
    // a CPU that is not present never filled its cpu_info: its topology is unknown, not zero
    const known = <T>(v: T): T | null => (p.present ? v : null);
    return [p.cpu, known(p.packageId), known(p.dieId), known(p.coreId), known(p.thread), known(p.apicid), p.numaNode, p.llcId === BAD_APICID ? null : known(p.llcId),
      p.online ? 'yes' : c.yellow('no'), cpuListString(p.smtSiblings), cpuListString(p.coreSiblings),
      d?.state === 'panic' ? c.red(`${what} (panic)`) : what];
  });
  out.table(grouped ? groupAlike(rows, r.cpus.map((p) => p.cpu)) : rows, { header: ['CPU', 'PKG', 'DIE', 'CORE', 'THR', 'APIC', 'NODE', 'LLC', 'ONLINE', 'SMT-SIBS', 'CORE-SIBS', 'DOING'], alignRight: [0, 1, 2, 3, 4, 5, 6, 7] });
  out.heading('packages × cores × threads');
  for (const p of r.matrix) {
    const cores = p.cores.map((k) => `core ${k.core} [${k.cpus.map((cpu) => (cpu === r.panicCpu ? c.red(String(cpu)) : String(cpu))).join(' ')}]`);
    // eight cores a line: a 64-core package stays readable on a terminal
    for (let i = 0; i < cores.length; i += 8) out.line(`  ${i === 0 ? `package ${p.package}:` : ' '.repeat(`package ${p.package}:`.length)} ${cores.slice(i, i + 8).join('  ')}`);
  }
  const absent = r.possible.filter((cpu) => !r.present.includes(cpu));
  if (absent.length) out.line(c.dim(`  possible but not present (never brought up): ${cpuListString(absent)}`));
}

function renderTlb(r: TlbSummary, out: Output): void {
  const c = out.c;
  out.kv([['PCID', r.pcid === null ? '?' : r.pcid ? 'yes' : 'no'], ['DYN ASIDS', r.nrDynAsids]]);
  out.line();
  out.table(r.cpus.map((s) => {
    const slot = s.ctxs[s.loadedMmAsid];
    const owner = s.isInitMm ? c.dim('init_mm') : s.owner ? `${s.owner.pid} ${s.owner.comm}` : c.red('none');
    const row = [s.cpu, hex(s.loadedMm), owner, s.loadedMmAsid,
      slot ? `${slot.ctxId}/${slot.tlbGen}` : '-', `${s.mmCtxId}/${s.mmTlbGen}`,
      s.isLazy ? c.yellow('lazy') : '-', `${s.rqCurr.pid} ${s.rqCurr.comm}`,
      s.flags.length ? c.red(s.flags.map((f) => f.flag).join(',')) : c.green('ok')];
    return row;
  }), { header: ['CPU', 'LOADED_MM', 'OWNER', 'ASID', 'SLOT CTX/GEN', 'MM CTX/GEN', 'LAZY', 'CURRENT', 'STATE'], alignRight: [0, 3] });
  for (const s of r.cpus) for (const f of s.flags) out.line(c.red(`  CPU ${s.cpu}: ${f.reason}`));
}

export default defineCommand<CpuinfoOptions, CpuinfoResult>({
  name: 'cpuinfo',
  summary: 'CPU topology and crash-time activity (-i), per-CPU TLB state (-t)',
  options: [
    { flags: '-i, --info', description: 'topology per CPU: package, die, core, thread, NUMA node, masks, what it was doing' },
    { flags: '-t, --tlb', description: 'TLB state per CPU: loaded mm, owner, ASID slots, lazy mode; flags pending flushes' },
    { flags: '-c, --cpus <list>', description: 'only these CPUs, e.g. 0-3,8 (text output then lists each one, without grouping alike CPUs)' },
  ],
  run({ vm, options }) {
    const wantTlb = Boolean(options.tlb);
    const wantInfo = Boolean(options.info) || !wantTlb;
    const r: CpuinfoResult = {};
    const only = options.cpus ? new Set(parseCpuList(options.cpus)) : null;
    if (only && !cpuMask(vm, 'possible').some((c) => only.has(c))) throw new NotFoundError(`no possible CPU in '${options.cpus}'`);
    const keep = <T extends { cpu: number }>(rows: T[]): T[] => (only ? rows.filter((x) => only.has(x.cpu)) : rows);
    if (archOf(vm).name === 'aarch64') {
      const possible = cpuMask(vm, 'possible');
      if (wantInfo) {
        const online = cpuMask(vm, 'online'), present = cpuMask(vm, 'present');
        let pc: number | null = null;
        try { pc = panicCpu(vm)?.cpu ?? null; } catch { /* no panic CPU recorded */ }
        const rows = arm64Topology(vm, possible, nrCpuIds(vm), new Set(online), new Set(present));
        r.arm64Topology = {
          possible, present, online, active: cpuMask(vm, 'active'), panicCpu: pc,
          cpus: keep(rows).map((p) => ({ ...p, doing: doing(vm, p.cpu, pc) })),
        };
      }
      if (wantTlb) r.arm64Tlb = arm64Tlb(vm, only ? possible.filter((c) => only.has(c)) : possible);
      return r;
    }
    if (wantInfo) {
      const topo = cpuTopologyAll(vm);
      let pc: number | null = null;
      try { pc = panicCpu(vm)?.cpu ?? null; } catch { /* no panic CPU recorded */ }
      r.topology = { ...topo, panicCpu: pc, cpus: keep(topo.cpus).map((p) => ({ ...p, doing: doing(vm, p.cpu, pc) })) };
    }
    if (wantTlb) {
      const t = cpuTlbStates(vm);
      r.tlb = only ? { ...t, cpus: keep(t.cpus) } : t;
    }
    return r;
  },
  render(r, out, options) {
    const grouped = !options.cpus;
    if (r.arm64Topology) renderArm64Topology(r.arm64Topology, out, grouped);
    if (r.arm64Topology && r.arm64Tlb) out.line();
    if (r.arm64Tlb) renderArm64Tlb(r.arm64Tlb, out);
    if (r.topology) renderTopology(r.topology, out, grouped);
    if (r.topology && r.tlb) out.line();
    if (r.tlb) renderTlb(r.tlb, out);
  },
  script({ file, options }) {
    if (options.tlb) {
      return `${scriptPrelude(file, ['forEachPossibleCpu'])}
// per CPU: cpu_tlbstate's loaded mm, its ASID slot against the mm's own ctx_id/tlb_gen, lazy mode
for (const cpu of forEachPossibleCpu(vm)) {
  const tlb = vm.perCpu('cpu_tlbstate', cpu);
  const mm = tlb.member('loaded_mm');
  const slot = tlb.member('ctxs').index(tlb.member('loaded_mm_asid').number());
  const lazy = tlb.hasMember('is_lazy') ? tlb.member('is_lazy') : vm.perCpu('cpu_tlbstate_shared', cpu).member('is_lazy');
  const num = (o) => o.bigint().toString();
  console.log('cpu', cpu, 'mm', '0x' + mm.pointer().toString(16), 'slot', num(slot.member('ctx_id')), num(slot.member('tlb_gen')),
    'mm', num(mm.member('context.ctx_id')), num(mm.member('context.tlb_gen.counter')), 'lazy', lazy.bool());
}
`;
    }
    return `${scriptPrelude(file, ['forEachPossibleCpu'])}
// per CPU: package, core and apicid from per-CPU cpu_info (6.5+ kernels: cpu_info.topo.pkg_id ...)
for (const cpu of forEachPossibleCpu(vm)) {
  const info = vm.perCpu('cpu_info', cpu);
  const pkg = info.hasMember('topo') ? info.member('topo.pkg_id') : info.member('phys_proc_id');
  const core = info.hasMember('topo') ? info.member('topo.core_id') : info.member('cpu_core_id');
  console.log('cpu', cpu, 'package', pkg.number(), 'core', core.number(), 'node', vm.perCpu('numa_node', cpu).number());
}
`;
  },
});
