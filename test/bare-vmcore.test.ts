/**
 * A bare vmcore is enough: symbols from the kernel's own kallsyms and types from its own BTF,
 * through the public object API and the p/sym/struct commands, checked against drgn's truth.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openVmcore } from '../src/index.js';
import { devKernel, drgnTruth, dumps, kernelDir, primaryTruth, truth } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';

describe('object API on every dump, no vmlinux or System.map', () => {
  for (const d of dumps) {
    it(`${d.scenario}/${d.name}`, () => {
      const t = primaryTruth(d.scenario);
      const vm = openVmcore(d.path, { systemMap: undefined });
      try {
        expect(vm.object('init_uts_ns').member('name.release').string()).toBe(t.uname.release);
        expect(vm.object('init_task').member('comm').string()).toBe('swapper/0');
        // jiffies: 32-bit wrap starts 5 minutes before 0 (INITIAL_JIFFIES), these guests ran < 1 min
        const j = vm.object('jiffies').bigint();
        const hz = BigInt(truth(d.scenario, 'extra.json').sys.uptime.hz);
        const initial = 2n ** 32n - 300n * hz;
        expect(j > initial && j < initial + 120n * hz).toBe(true);
        // __per_cpu_offset[cpu]: each possible CPU's per-CPU area, distinct and page-aligned
        const offsets = t.cpus.possible.map((cpu: number) => vm.perCpuOffset(cpu));
        expect(new Set(offsets).size).toBe(offsets.length);
        for (const o of offsets) expect(o % 4096n).toBe(0n);
        // and the runqueue address each gives is the one drgn read
        for (const rq of t.runqueues ?? []) expect('0x' + vm.perCpu('runqueues', rq.cpu).address.toString(16)).toBe(rq.rq);
        // a task_struct from drgn's list reads back with its pid and comm
        const task = t.tasks.find((x: { comm: string }) => x.comm !== 'swapper/0');
        const obj = vm.objectAt(BigInt(task.task_struct), 'struct task_struct');
        expect(obj.member('pid').number()).toBe(task.pid);
        expect(obj.member('comm').string()).toBe(task.comm);
        // the panicking task's saved RIP (PRSTATUS) names the kernel function drgn's stack starts in
        const regs = vm.dump.cpuRegs().find((c) => c.cpu === t.panic_task.cpu) ?? vm.dump.cpuRegs()[t.panic_task.cpu];
        const rip = vm.symbols.symbolize(regs.regs.rip ?? regs.regs.pc);
        const stack0 = drgnTruth(d.scenario).panic_task.backtrace as string[];
        expect(rip).toBeDefined();
        // drgn's first frames include inlined helpers (crash_setup_regs); ours is the real function
        // they are inlined into. drgn drops compiler suffixes (.constprop.0.isra.0) and shows
        // functions it has no debug info for (a module without it) as the bare address.
        const base = (n: string) => n.replace(/\.(constprop|isra|cold|part)\b.*$/, '');
        const named = stack0.slice(0, 4).map((f) => (/^0x[0-9a-f]+$/.test(f) ? vm.symbols.symbolize(BigInt(f))?.name ?? f : f));
        expect(named.map(base)).toContain(base(rip!.name));
      } finally {
        vm.close();
      }
    });
  }
});

describe('p, sym and struct commands', () => {
  const d = dumps.find((x) => x.name === 'vmcore.kdump-lzo')!;
  const t = primaryTruth(d.scenario);
  it('p prints variables, member paths and per-CPU copies', async () => {
    expect((await vaatJson(['p', d.path, 'init_task.comm']))[0]).toMatchObject({ type: 'char [16]', value: 'swapper/0' });
    const nr = await vaatJson(['p', d.path, 'runqueues:a', '--member', 'nr_running']);
    expect(nr.map((x: { value: number }) => x.value)).toEqual(t.runqueues.map((q: { nr_running: number }) => q.nr_running));
    expect((await vaatJson(['p', d.path, 'runqueues:2', '--member', 'nr_running']))[0].value).toBe(t.runqueues[2].nr_running);
  });
  it('sym goes both ways', async () => {
    const [s] = await vaatJson(['sym', d.path, 'init_task']);
    // init_task.comm's address is init_task + offsetof(comm): the p command and sym agree
    const comm = (await vaatJson(['p', d.path, 'init_task.comm']))[0];
    const [commSym] = await vaatJson(['sym', d.path, comm.address]);
    expect(commSym.name).toBe('init_task');
    expect(BigInt(comm.address) - BigInt(s.address)).toBe(BigInt(commSym.offset));
    const [back] = await vaatJson(['sym', d.path, (BigInt(s.address) + 0x10n).toString(16)]);
    expect(back.text).toMatch(/^init_task\+0x10\/0x[0-9a-f]+$/);
  });
  it('struct matches the DWARF layouts file', async () => {
    const layouts = JSON.parse(readFileSync(join(kernelDir, 'layouts.json'), 'utf8'));
    const want = layouts.types['struct mutex'];
    const r = await vaatJson(['struct', d.path, 'mutex']);
    expect(r.size).toBe(want.size);
    const names = r.members.map((m: { name: string }) => m.name);
    expect(names).toEqual(expect.arrayContaining(['owner', 'wait_lock', 'wait_list']));
    expect((await vaat(['struct', d.path, 'no_such_struct_xyz'])).status).toBe(1);
  });
});

describe('mismatched symbol sources are refused', () => {
  it('a System.map of another build (addresses shifted) gives one clear error', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'vaat-map-'));
    try {
      const map = join(tmp, 'System.map-other');
      const src = readFileSync(join(kernelDir, 'System.map-6.1.0-54-cloud-amd64'), 'utf8');
      // every text/data symbol 16 KiB further on: what a map of a slightly different build looks like
      writeFileSync(map, src.replace(/^(ffffffff[0-9a-f]{8})/gm, (a) => (BigInt('0x' + a) + 0x4000n).toString(16)));
      const d = dumps.find((x) => x.kernel === devKernel)!;
      const r = await vaat(['sym', d.path, 'init_task', '--system-map', map]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/does not belong to this dump/);
      // the right map is accepted and agrees with kallsyms
      copyFileSync(join(kernelDir, 'System.map-6.1.0-54-cloud-amd64'), join(tmp, 'System.map'));
      const ok = await vaat(['sym', d.path, 'init_task', '--system-map', join(tmp, 'System.map'), '--json']);
      expect(ok.status).toBe(0);
      expect(JSON.parse(ok.stdout)[0].source).toMatch(/System\.map/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
