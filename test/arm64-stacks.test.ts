/**
 * arm64 stacks, cgroups and CPU views against drgn 0.2.0's truth: `bt -a` (frame records, PAC bits
 * stripped, exception and IRQ-stack transitions through pt_regs), the D-state tasks' stacks from
 * their saved cpu_context, `cpuinfo -i` (cpu_topology[], MPIDR, MIDR) and `cpuinfo -t` (global
 * ASIDs: per-CPU active_asids against the running mm's context.id). Run bare and with DWARF by
 * scripts/test.sh; bare, inlined frames are absent, so the physical frames must be drgn's list
 * with its inlined entries left out, in order.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vaatJson } from './cli.js';
import { baseName } from './drgn-stacks.js';
import { allScenarios, fixturesDir, truth } from './fixtures.js';

const bare = process.env.VAAT_VMLINUX === 'none';
const sets = allScenarios.filter((s) => s.startsWith('arm64-')).map((scenario) => {
  const name = readdirSync(join(fixturesDir, scenario)).find((f) => f.startsWith('vmcore'))!;
  return { scenario, path: join(fixturesDir, scenario, name) };
});

interface Frame { function: string | null; text: string; inlined: boolean; user: boolean }
interface Trace { pid: number; cpu: number | null; frames: Frame[] }

/** our frames as drgn names them: function names without clone suffixes, user pcs as hex */
const names = (t: Trace): string[] => t.frames.map((f) => (f.function ? baseName(f.function) : f.text));

/** bare: our physical frames are drgn's list in order, drgn's extra entries being inlined functions */
function expectSameStack(ours: string[], drgn: string[]): void {
  if (!bare) { expect(ours).toEqual(drgn); return; }
  let i = 0;
  for (const n of drgn) if (i < ours.length && ours[i] === n) i++;
  expect(i, `${ours.join(' ')}\n  vs drgn ${drgn.join(' ')}`).toBe(ours.length);
  expect(ours[ours.length - 1]).toBe(drgn[drgn.length - 1]);
}

describe.each(sets)('$scenario', ({ scenario, path }) => {
  const t = truth(scenario);

  it('bt -a: every CPU\'s stack as drgn unwinds it, through exceptions and the IRQ stack to user space', async () => {
    const traces = (await vaatJson(['bt', path, '-a'])).traces as Trace[];
    const active = t.active_backtraces as Record<string, { pid: number; backtrace: string[] }>;
    expect(traces.map((x) => x.cpu)).toEqual(Object.keys(active).map(Number));
    for (const x of traces) {
      const want = active[String(x.cpu)];
      expect(x.pid).toBe(want.pid);
      expectSameStack(names(x), want.backtrace.map(baseName));
    }
  });

  const stuck = t.uninterruptible_backtraces as { pid: number; backtrace: string[] }[];
  if (stuck.length) it('bt of the D-state tasks: from their saved cpu_context, as drgn unwinds them', async () => {
    for (const s of stuck) {
      const [x] = (await vaatJson(['bt', path, String(s.pid)])).traces as Trace[];
      expectSameStack(names(x), s.backtrace.map(baseName));
    }
  });

  it('cgroupinfo: the v2 tree in pre-order with ids, levels, task counts, cpu.weight, memory.max and pids.max', async () => {
    interface Node { path: string; id: number; level: number; nrTasks: number; cpu?: { weight: number }; memory?: { maxBytes: number | 'max' }; pids?: { max: number | 'max' }; children: Node[] }
    const flat: Node[] = [];
    const walk = (n: Node) => { flat.push(n); n.children.forEach(walk); };
    walk((await vaatJson(['cgroupinfo', path])).hierarchies.find((h: { version: number }) => h.version === 2).root);
    const want = t.cgroups as Record<string, unknown>[];
    expect(flat.map((n) => [n.path, n.id, n.level, n.nrTasks])).toEqual(want.map((w) => [w.path, w.id, w.level, w.nr_tasks]));
    for (const w of want) {
      const n = flat.find((x) => x.path === w.path)!;
      if ('cpu.weight' in w) expect(n.cpu?.weight).toBe(w['cpu.weight']);
      if ('memory.max' in w) expect(n.memory?.maxBytes).toBe(w['memory.max']);
      if ('pids.max' in w) expect(n.pids?.max).toBe(w['pids.max']);
    }
  });

  it('cpuinfo -i: cpu_topology ids and siblings, MPIDR and MIDR per CPU', async () => {
    const r = (await vaatJson(['cpuinfo', path, '-i'])).arm64Topology;
    const want = truth(scenario, 'extra.json').topology;
    expect(r.cpus.map((c: { cpu: number }) => c.cpu)).toEqual(want.cpus.map((c: { cpu: number }) => c.cpu));
    for (const w of want.cpus) {
      const c = r.cpus.find((x: { cpu: number }) => x.cpu === w.cpu);
      expect([c.online, c.packageId, c.clusterId, c.coreId, c.threadId, BigInt(c.mpidr), BigInt(c.midr), c.numaNode, c.smtSiblings, c.coreSiblings])
        .toEqual([w.online, w.package_id, w.cluster_id, w.core_id, w.thread_id, BigInt(w.mpidr), BigInt(w.midr), w.numa_node, w.smt_siblings_list, w.core_siblings_list]);
    }
  });

  it('cpuinfo -t: ASID bits, each CPU\'s active and reserved ASID, its running mm\'s context.id and owner', async () => {
    const r = (await vaatJson(['cpuinfo', path, '-t'])).arm64Tlb;
    const want = truth(scenario, 'extra.json').tlb;
    expect(r.asidBits).toBe(want.asid_bits);
    for (const w of want.cpus) {
      const c = r.cpus.find((x: { cpu: number }) => x.cpu === w.cpu);
      expect([BigInt(c.activeAsidRaw), c.activeAsid, c.activeGeneration, BigInt(c.reservedAsidRaw), c.curr.pid, BigInt(c.curr.mm), BigInt(c.curr.activeMm),
        BigInt(c.mmContextId), c.mmAsid, c.activeAsidMatchesMm, c.owner?.pid ?? null])
        .toEqual([BigInt(w.active_asid_raw), w.active_asid, w.active_generation, BigInt(w.reserved_asid_raw), w.rq_curr.pid, BigInt(w.rq_curr.mm), BigInt(w.rq_curr.active_mm),
          BigInt(w.active_mm_context_id), w.active_mm_asid, w.active_asid_matches_active_mm, w.active_mm_owner?.pid ?? null]);
      if (c.activeMmIsInitMm !== null) expect(c.activeMmIsInitMm).toBe(w.rq_curr.active_mm_is_init_mm);
      // TTBR0 holds the active mm's pgd (physical) and its ASID
      expect(BigInt(c.ttbr0) >> 48n).toBe(BigInt(w.active_mm_asid));
    }
  });
});
