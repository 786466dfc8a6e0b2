/**
 * `vaat lockinfo` through the CLI: cgroup_mutex's owner and queue equal drgn's truth.json, the
 * --blocked scan equals extra.json `waits_for` on every scenario with the chain printed plainly,
 * a pid names the lock it waits on, and the --script program computes the same owner and queue.
 */
import { describe, expect, it } from 'vitest';
import { dumps, dumpsOf, truth, type Json } from './fixtures.js';
import { runScript, vaat, vaatJson } from './cli.js';
import { chainJson } from '../src/analysis/lock-chains.js';
import { followChain, type TaskWait } from '../src/kernel/locking/waits.js';
import type { LockTask } from '../src/kernel/locking/index.js';
import { Dump } from '../src/dump/dump.js';
import { Vmcore } from '../src/vmcore.js';
import { builtinCommand } from '../commands/index.js';
import { toJson } from '../src/output/json.js';
import { schemaValidator } from './command-json.js';
import { withWord } from './hostile/inputs.js';

describe.each(dumpsOf('cgroup-mutex-hung', { primary: true }))('lockinfo on $scenario', (hung) => {
  const cm = truth(hung.scenario).cgroup_mutex;

  describe('lockinfo <lock>', () => {
    it('cgroup_mutex: owner, raw owner word, flags and waiters in queue order equal truth.json', async () => {
      const r = await vaatJson(['lockinfo', hung.path, 'cgroup_mutex']);
      expect(r.mode).toBe('lock');
      const l = r.lock;
      expect({ address: l.address, kind: l.kind, type: l.type, locked: l.locked }).toEqual({ address: cm.address, kind: 'mutex', type: 'struct mutex', locked: true });
      expect(l.ownerRaw).toBe(cm.owner_raw);
      expect(l.ownerFlags).toBe(cm.owner_flags);
      expect(l.flags).toEqual(['WAITERS']);
      expect({ pid: l.owner.pid, comm: l.owner.comm, task_struct: l.owner.task, state: l.owner.state }).toEqual(cm.owner);
      expect(l.waiters.map((w: Json) => ({ pid: w.pid, comm: w.comm, task_struct: w.task, state: w.state }))).toEqual(cm.waiters);
      expect(l.waiters.map((w: Json) => w.position)).toEqual(cm.waiters.map((_: Json, i: number) => i));
      // each waiter has waited since it last ran, and the queue is FIFO: the first waited longest
      const secs = l.waiters.map((w: Json) => w.sinceLastRun.seconds);
      expect(secs.every((s: number) => s > 0)).toBe(true);
      expect([...secs].sort((a, b) => b - a)).toEqual(secs);
      expect(l.waiters[0].sinceLastRun.source).toMatch(/last_arrival/);
      expect(l.ownerBacktrace.some((f: string) => f.includes('[vaat_holder]'))).toBe(true);
    });

    it('plain output names the owner and the waiters', async () => {
      const r = await vaat(['lockinfo', hung.path, 'cgroup_mutex', '--no-stack']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`owner: vaat_holder\\(${cm.owner.pid}\\) S on CPU \\d`));
      expect(r.stdout).toContain(`owner word: ${cm.owner_raw} (WAITERS)`);
      expect(r.stdout.match(new RegExp(`^\\d  (${cm.waiters.map((w: Json) => w.pid).join('|')})  mkdir  D`, 'gm'))).toHaveLength(cm.waiters.length);
      expect(r.stdout).not.toMatch(/backtrace/);
    });

    it('refuses a symbol that is no lock', async () => {
      const r = await vaat(['lockinfo', hung.path, 'jiffies']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/not a lock/);
    });

    it('a pid: the lock it waits on, its place in the queue and the chain', async () => {
      const r = await vaatJson(['lockinfo', hung.path, String(cm.waiters[2].pid), '--no-stack']);
      expect(r.mode).toBe('task');
      expect(r.wait).toMatchObject({ lockSymbol: 'cgroup_mutex', lockAddress: cm.address, positionInWaitList: 2, waitListLength: cm.waiters.length, ownerPid: cm.owner.pid });
      expect(r.chain.text).toBe(`mkdir(${cm.waiters[2].pid}) D → cgroup_mutex (mutex) → held by vaat_holder(${cm.owner.pid}) S`);
      expect(r.lock.owner.pid).toBe(cm.owner.pid);
    });
  });

  describe('lockinfo --blocked, chains', () => {
    it('prints the chains plainly', async () => {
      const r = await vaat(['lockinfo', hung.path, '--blocked']);
      expect(r.status).toBe(0);
      for (const w of cm.waiters) expect(r.stdout).toContain(`mkdir(${w.pid}) D → cgroup_mutex (mutex) → held by vaat_holder(${cm.owner.pid}) S`);
      expect(r.stdout).toMatch(/deadlocks: none found/);
    });
  });

  describe('lockinfo --script', () => {
    it('the program prints the same owner and queue', async () => {
      const lines = (await runScript(['lockinfo', hung.path, 'cgroup_mutex'])).trim().split('\n');
      expect(lines[0]).toBe(`owner ${cm.owner.pid} ${cm.owner.comm} raw ${cm.owner_raw} flags ${cm.owner_flags}`);
      expect(lines.slice(1)).toEqual(cm.waiters.map((w: Json) => `waiter ${w.pid} ${w.comm}`));
    });

    it('the --blocked program names the lock owner of every D task as extra.json does', async () => {
      const want = truth(hung.scenario, 'extra.json').waits_for.waits_for as Json[];
      const lines = (await runScript(['lockinfo', hung.path, '--blocked'])).trim().split('\n');
      expect(lines.map((l) => l.replace(/\+0x0\/0x[0-9a-f]+ /, ' '))).toEqual(want.map((w) => `${w.comm}(${w.pid}) D waits on ${w.lock_symbol} held by ${w.owner_comm}(${w.owner_pid})`));
    });
  });

});

describe('lockinfo --blocked', () => {
  for (const d of dumps.filter((x) => x.primary)) {
    it(`${d.scenario}: equals extra.json waits_for`, async () => {
      const want = truth(d.scenario, 'extra.json').waits_for;
      const r = await vaatJson(['lockinfo', d.path, '--blocked']);
      expect(r.threadSize.bytes).toBe(want.thread_size);
      const dState = r.tasks.filter((t: Json) => t.state === 'D');
      expect(dState.length).toBe(want.d_state_tasks);
      // our camelCase keys → extra.json's (drgn's) names
      const truthKey: Record<string, string> = {
        pid: 'pid', comm: 'comm', task: 'task_struct', stack: 'stack', lockAddress: 'lock_addr', lockSymbol: 'lock_symbol', lockType: 'lock_type',
        ownerPid: 'owner_pid', ownerComm: 'owner_comm', stackWordsEqualToTask: 'stack_words_equal_to_task', waiter: 'waiter_addr',
        positionInWaitList: 'position_in_wait_list', waitListLength: 'wait_list_length', ownerRaw: 'owner_raw', ownerState: 'owner_state',
      };
      const ours = (x: Json, ks: string[]): Json => Object.fromEntries(ks.map((k) => [truthKey[k], x[k]]));
      const theirs = (x: Json, ks: string[]): Json => Object.fromEntries(ks.map((k) => [truthKey[k], x[truthKey[k]]]));
      const keys = ['pid', 'comm', 'task', 'stack', 'lockAddress', 'lockSymbol', 'lockType', 'ownerPid', 'ownerComm', 'stackWordsEqualToTask'];
      expect(dState.map((t: Json) => ours(t, keys))).toEqual(want.waits_for.map((t: Json) => theirs(t, keys)));
      const lockKeys = ['waiter', 'positionInWaitList', 'waitListLength', 'ownerRaw', 'ownerState'];
      for (const w of want.waits_for.filter((x: Json) => x.lock_addr)) {
        const t = dState.find((x: Json) => x.pid === w.pid);
        expect(ours(t, lockKeys)).toEqual(theirs(w, lockKeys));
      }
      for (const w of want.waits_for.filter((x: Json) => !x.lock_addr)) {
        const t = dState.find((x: Json) => x.pid === w.pid);
        expect(t.kind).not.toBe('lock');
        if (w.blocked_in.includes('wait_for_completion')) expect(t.note).toMatch(/waits on a completion, not a lock/);
      }
      expect(r.cycles).toEqual([]);
    });
  }

});

describe('wait-for chains and cycles (synthetic waits)', () => {
  const task = (pid: number, comm: string, state: LockTask['state'] = 'D'): LockTask =>
    ({ address: BigInt(0x1000 * pid), pid, comm, state, cpu: 0, lastArrival: null, lastSwitchTime: null });
  const waitOn = (t: LockTask, lock: string, owner: LockTask | null): TaskWait => ({
    task: t, stack: 0n, blockedIn: [], stackWordsEqualToTask: 1, waited: { ns: null, source: '' },
    blockedOn: {
      kind: 'lock', lock: { address: 0xffffffff81000000n, kind: 'mutex', type: 'struct mutex', symbol: lock, kindSource: 'test' },
      waiter: 0n, via: 'stack-scan', position: 0, waitListLength: 1, owner, ownerNote: 'holds it', ownerRaw: null, ownerFlags: [],
    },
  });
  const idle = (t: LockTask): TaskWait => ({ task: t, stack: 0n, blockedIn: [], stackWordsEqualToTask: 0, waited: { ns: null, source: '' }, blockedOn: { kind: 'none', note: 'not waiting' } });

  it('an ABBA deadlock is a cycle', () => {
    const a = task(10, 'a');
    const b = task(20, 'b');
    const waits = new Map<bigint, TaskWait>([[a.address, waitOn(a, 'lock_a', b)], [b.address, waitOn(b, 'lock_b', a)]]);
    const c = followChain(waits.get(a.address)!, (o) => waits.get(o) ?? null);
    expect(c.cycle).toBe(true);
    expect(c.cycleStart).toBe(0);
    expect(chainJson(c).text).toBe('a(10) D → lock_a (mutex) → held by b(20) D → lock_b (mutex) → held by a(10): DEADLOCK');
  });

  it('a chain ends at an owner that waits on no lock', () => {
    const a = task(1, 'x');
    const b = task(2, 'y');
    const o = task(3, 'z', 'S');
    const waits = new Map<bigint, TaskWait>([[a.address, waitOn(a, 'm1', b)], [b.address, waitOn(b, 'm2', o)], [o.address, idle(o)]]);
    const c = followChain(waits.get(a.address)!, (x) => waits.get(x) ?? null);
    expect(c.cycle).toBe(false);
    expect(chainJson(c)).toEqual({ text: 'x(1) D → m1 (mutex) → held by y(2) D → m2 (mutex) → held by z(3) S', pids: [1, 2, 3], cycle: false, end: 'z(3) S is not waiting on a lock' });
  });
});

/**
 * A waiter whose task_struct cannot be read: its pid, comm, state and CPU are null in --json
 * (unknown), never a made-up -1 or '?', and the output still validates against the schema.
 */
describe.each(dumpsOf('cgroup-mutex-hung', { primary: true }))('lockinfo on $scenario: an unreadable waiter', (hung) => {
  it('is null where its task could not be read, the other waiters as they were', async () => {
    const cm = truth(hung.scenario).cgroup_mutex;
    const d = Dump.open(hung.path);
    try {
      const plain = new Vmcore(d, { vmlinux: false });
      // the first mutex_waiter on cgroup_mutex.wait_list: its task pointer made wild
      const first = plain.object('cgroup_mutex', 'struct mutex').member('wait_list.next').pointer();
      const taskField = first - BigInt(plain.types.offsetof('struct mutex_waiter', 'list')) + BigInt(plain.types.offsetof('struct mutex_waiter', 'task'));
      const vm = withWord(d, taskField, 0x10n);
      const r = JSON.parse(toJson(await builtinCommand('lockinfo').run({ vm, options: {}, args: ['cgroup_mutex'] }), 'lockinfo'));
      const [w0, ...rest] = r.lock.waiters;
      expect({ pid: w0.pid, comm: w0.comm, state: w0.state, cpu: w0.cpu, task: w0.task }).toEqual({ pid: null, comm: null, state: null, cpu: null, task: '0x10' });
      expect(rest.map((w: Json) => w.pid)).toEqual(cm.waiters.slice(1).map((w: Json) => w.pid));
      const valid = schemaValidator('lockinfo');
      expect(valid(r), JSON.stringify(valid.errors)).toBe(true);
    } finally { d.close(); }
  });
});
