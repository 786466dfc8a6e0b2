/** The triage summary (`vaat VMCORE`): every section against drgn's truth and the MANIFEST. */
import { describe, expect, it } from 'vitest';
import { drgnTruth, dumps, dumpsOf, primaryTruth, printedTaint, truth } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';

describe('vaat VMCORE (summary)', () => {
  for (const d of dumps) {
    it(`${d.scenario}/${d.name}`, async () => {
      const t = primaryTruth(d.scenario);
      const r = await vaatJson([d.path]);
      expect(r.errors).toEqual([]);
      expect(r.sys.release).toBe(t.uname.release);
      expect(r.panic.message).toBe(t.panic.message);
      expect(r.panic.cpu).toBe(t.panic_task.cpu);
      expect(r.panic.pid).toBe(t.panic_task.tid);
      // every function of the panic stack is one drgn 0.0.33 names too (the README's better stack
      // reference; drgn also lists inlined frames, which ORC cannot see)
      const drgnFns = new Set(drgnTruth(d.scenario).panic_task.backtrace.map((f: string) => f.replace(/\.(constprop|isra|cold)\b.*$/, '')));
      const ours = r.panic.stack.map((f: string) => f.replace(/\+0x.*$/, '').replace(/\.(constprop|isra|cold)\b.*$/, '')).filter((f: string) => !f.startsWith('0x'));
      expect(ours.length).toBeGreaterThan(2);
      expect(ours.filter((f: string) => drgnFns.has(f)).length).toBeGreaterThanOrEqual(ours.length - 2);
      // state counts equal drgn's task list (its tasks exclude the idle tasks, which are R or I)
      const dCount = t.tasks.filter((x: { state: string }) => x.state === 'D').length;
      expect(r.states.D ?? 0).toBe(dCount);
      expect(r.blocked.count).toBe(dCount);
      // one row per online CPU, with the current task drgn saw there
      for (const q of r.runqueues) {
        const tq = t.runqueues.find((x: { cpu: number }) => x.cpu === q.cpu);
        expect(q.curr).toBe(`${tq.curr.comm}(${tq.curr.pid})`);
        expect(q.nrRunning).toBe(tq.nr_running);
      }
    });
  }

  it.each(dumpsOf('cgroup-mutex-hung', { primary: true }))('names what is odd: the hung mkdirs and whom they wait for: $scenario', async (d) => {
    const hung = await vaatJson([d.path]);
    expect(hung.findings).toContain(`${truth(d.scenario).uninterruptible_backtraces.length} tasks in uninterruptible sleep (D)`);
    expect(hung.blocked.groups[0].comms).toEqual(['mkdir']);
    expect(hung.blocked.groups[0].functions).toContain('cgroup_kn_lock_live');
    // who they wait for, from the mutex_waiters on their stacks: truth.json's cgroup_mutex owner
    const ht = truth(d.scenario);
    const cm = ht.cgroup_mutex;
    const ownerState = ht.tasks.find((x: { pid: number }) => x.pid === cm.owner.pid).state;
    const what = `cgroup_mutex (mutex) → held by ${cm.owner.comm}(${cm.owner.pid}) ${ownerState}`;
    expect(hung.lockWaits).toEqual([{ waiters: cm.waiters.length, what, pids: cm.waiters.map((w: { pid: number }) => w.pid) }]);
    expect(hung.findings).toContain(`${cm.waiters.length} tasks wait on ${what}`);
    expect(hung.deadlocks).toEqual([]);
    // what a partial dump lacks, in makedumpfile's page classes
    expect(hung.findings).toContain('partial dump (level 31): zero, cache, cache-private, user, free pages left out');
  });

  it('names what is odd: the spinning CPU, the taint, a QEMU dump\'s level', async () => {
    const soft = await vaatJson([dumps.find((d) => d.scenario === 'softlockup')!.path]);
    expect(soft.findings.some((f: string) => /^CPU 3: vaat_spin\(\d+\) had been running for 1\d\.\d s/.test(f))).toBe(true);
    // the letters of the last "Tainted:" line the kernel printed (drgn's dmesg tail), minus G
    expect(soft.findings).toContain(`kernel tainted: ${printedTaint('softlockup')!.replace(/^Tainted: |[G\s]/g, '')}`);
    expect((await vaatJson([dumps.find((d) => d.scenario === 'qemu-dump')!.path])).findings).toContain('partial dump (level 1): zero pages left out');
  });

  it('is the default and prints one readable screen', async () => {
    const d = dumps.find((x) => x.scenario === 'sysrq-basic')!;
    const r = await vaat([d.path]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/PANIC: sysrq triggered crash/);
    expect(r.stdout).toMatch(/on CPU 1, task sh \(pid \d+\)/);
    expect(r.stdout.split('\n').length).toBeLessThan(60);
  });
});
