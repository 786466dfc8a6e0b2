/**
 * Lock helpers and the wait scan against the real dumps: cgroup_mutex's owner and queue equal
 * drgn's (truth.json `cgroup_mutex`), every D-state task's wait equals extra.json `waits_for`
 * (found there from the DWARF-typed mutex_waiter), the offsets used equal the DWARF layouts, and
 * the pure decoders (qspinlock word) on words built by hand.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import {
  decodeQspinlockWord, guessLockKind, lockInfo, mutexForEachWaiter, mutexOwner, qspinlockState, resolveLock, rwsemOwner,
  semaphoreState, semaphoreWaiters,
} from '../src/kernel/locking/index.js';
import { taskBlockedOn, threadSize, waitForGraph } from '../src/kernel/locking/waits.js';
import { listTasks, TASK_FREEZABLE } from '../src/kernel/tasks.js';
import { isImageReadOnly } from '../src/arch/arch.js';
import { dumps, dumpsOf, itWhen, truth, type DumpFixture, type Json } from './fixtures.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const hx = (v: bigint): string => `0x${v.toString(16)}`;
const hungs = dumpsOf('cgroup-mutex-hung', { primary: true });
const soft = dumps.find((d) => d.scenario === 'softlockup' && d.primary)!;
/** the DWARF layouts of the dump's kernel (kernel-<release>/layouts.json) */
const layoutsOf = (d: DumpFixture): Json => JSON.parse(readFileSync(join(d.kernel.dir, 'layouts.json'), 'utf8')).types;

const opened: Vmcore[] = [];
const open = (path: string): Vmcore => { const vm = openVmcore(path); opened.push(vm); return vm; };
afterAll(() => { for (const vm of opened) vm.close(); });

describe.each(hungs)('cgroup_mutex on $scenario', (hung) => {
  const vm = open(hung.path);
  const layouts = layoutsOf(hung);
  const want = truth(hung.scenario).cgroup_mutex;

  it('mutexOwner masks the flag bits and names the owner task', () => {
    const m = vm.object('cgroup_mutex');
    expect(hx(m.address)).toBe(want.address);
    const o = mutexOwner(vm, m);
    expect(hx(o.raw)).toBe(want.owner_raw);
    expect(o.flags).toBe(want.owner_flags);
    expect(o.flagNames).toEqual(['WAITERS']);
    expect(o.encoding).toBe('owner-flags');
    expect(hx(o.ownerAddress)).toBe(want.owner.task_struct);
    expect({ pid: o.owner?.pid, comm: o.owner?.comm, state: o.owner?.state }).toEqual({ pid: want.owner.pid, comm: want.owner.comm, state: want.owner.state });
  });

  it('mutexForEachWaiter lists the waiters in queue order', () => {
    const ws = [...mutexForEachWaiter(vm, vm.address('cgroup_mutex'))];
    expect(ws.map((w) => ({ pid: w.task?.pid, comm: w.task?.comm, task_struct: hx(w.taskAddress), state: w.task?.state })))
      .toEqual(want.waiters);
  });

  it('uses the DWARF layout of struct mutex and struct rw_semaphore', () => {
    for (const type of ['struct mutex', 'struct rw_semaphore']) {
      for (const m of layouts[type].members) expect(vm.types.offsetof(type, m.name), `${type}.${m.name}`).toBe(m.offset);
    }
  });

  it('THREAD_SIZE comes from the init stack symbols and equals extra.json', () => {
    const ts = threadSize(vm);
    expect(ts.bytes).toBe(truth(hung.scenario, 'extra.json').waits_for.thread_size);
    // the init stack's symbols, or (a bare arm64 dump: kallsyms without data) kernel threads' final frame records
    expect(ts.source).toMatch(/__end_init_task|final frame records/);
  });

  it('no wait list passes through the image\'s code or read-only data (the scan rejects such links unread)', () => {
    const at = (n: string) => vm.symbols.lookup(n)!.address;
    const has = (n: string) => vm.symbols.lookup(n) !== undefined;
    expect(isImageReadOnly(vm, at('schedule'))).toBe(true); // text
    // read-only data where the symbols bound it (a bare arm64 kallsyms has no __end_rodata: text only)
    if (has('__start_rodata') && has('__end_rodata')) {
      expect(isImageReadOnly(vm, at('__start_rodata'))).toBe(true);
      expect(isImageReadOnly(vm, at('__end_rodata') - 1n)).toBe(true);
      expect(isImageReadOnly(vm, at('__end_rodata'))).toBe(false);
    } else {
      expect(isImageReadOnly(vm, at('_etext') - 1n)).toBe(true);
      expect(isImageReadOnly(vm, at('_etext'))).toBe(false);
    }
    expect(isImageReadOnly(vm, at('cgroup_mutex'))).toBe(false); // .data
    expect(isImageReadOnly(vm, at('cgroup_mutex') + BigInt(vm.types.offsetof('struct mutex', 'wait_list')))).toBe(false);
    // every node of cgroup_mutex's wait list is outside it
    const ws = [...mutexForEachWaiter(vm, at('cgroup_mutex'))];
    expect(ws).toHaveLength(want.waiters.length);
    for (const w of ws) expect(typeof w.waiter === 'bigint' && !isImageReadOnly(vm, w.waiter)).toBe(true);
  });

  it('taskBlockedOn of the owner finds no lock; of a waiter finds cgroup_mutex', () => {
    expect(taskBlockedOn(vm, want.owner.pid).blockedOn.kind).not.toBe('lock');
    const w = taskBlockedOn(vm, want.waiters[1].pid).blockedOn;
    expect(w.kind).toBe('lock');
    if (w.kind === 'lock') {
      expect(w.lock.symbol).toBe('cgroup_mutex');
      expect(w.position).toBe(1);
      expect(w.owner?.pid).toBe(want.owner.pid);
    }
  });
});

describe.each(hungs)('other lock kinds, checked against raw words at DWARF offsets: $scenario', (hung) => {
  const vm = open(hung.path);
  const layouts = layoutsOf(hung);
  // a bare dump of a kernel whose kallsyms name no data (no CONFIG_KALLSYMS_ALL: Debian's arm64)
  // knows only the globals derived from code; these locks are not among them
  const named = ['uts_sem', 'console_sem', 'css_set_lock', 'cgroup_threadgroup_rwsem'].every((n) => vm.symbols.lookup(n));
  const it = itWhen(named, 'this bare dump\'s kallsyms name no data symbols');

  it('rw_semaphore (uts_sem): state from count bits, owner from the masked owner word', () => {
    const addr = vm.address('uts_sem');
    const off = Object.fromEntries(layouts['struct rw_semaphore'].members.map((m: Json) => [m.name, BigInt(m.offset)]));
    const count = vm.dump.u64(addr + off.count);
    const owner = vm.dump.u64(addr + off.owner);
    const r = rwsemOwner(vm, addr);
    expect(r.encoding).toBe('v5.3');
    expect(r.count).toBe(count);
    expect(r.raw).toBe(owner);
    expect(r.ownerAddress).toBe(owner & ~7n);
    expect(r.state).toBe(count & 1n ? 'writer' : count >> 8n ? 'readers' : 'unlocked');
    expect(r.readers).toBe(Number((count >> 8n) & ((1n << 55n) - 1n)));
    expect(guessLockKind(vm, addr)[0]).toBe('rwsem');
  });

  it('semaphore (console_sem): count and an empty FIFO', () => {
    const s = semaphoreState(vm, vm.address('console_sem'));
    expect(s.count).toBe(vm.dump.u32(vm.address('console_sem') + BigInt(vm.types.offsetof('struct semaphore', 'count'))));
    // up() hands the slot to a waiter instead of counting it: free slots mean nobody waits
    if (s.count > 0) expect([...semaphoreWaiters(vm, vm.address('console_sem'))]).toEqual([]);
    expect(resolveLock(vm, 'console_sem').kind).toBe('semaphore');
  });

  it('spinlock (css_set_lock): the word decoded matches its bytes', () => {
    const s = qspinlockState(vm, vm.object('css_set_lock'));
    expect(s.val).toBe(vm.dump.u32(vm.address('css_set_lock')));
    expect(s.pendingBits).toBe(8); // CONFIG_NR_CPUS=8192 < 16K
    expect(s.locked).toBe((s.val & 0xff) !== 0);
  });

  it('a lock read as the wrong type ends its wait list with an error, not a loop', () => {
    // cgroup_threadgroup_rwsem is a percpu_rw_semaphore since v5.8: its bytes are no rw_semaphore
    const info = lockInfo(vm, vm.address('cgroup_threadgroup_rwsem'), 'rwsem');
    expect(info.waitersError).toMatch(/wait_list/);
    expect(info.waiters.length).toBeLessThan(10);
  });

  it('qspinlock words built by hand', () => {
    // NR_CPUS < 16K: locked | pending byte | tail idx 16-17 | tail cpu+1 18-31
    expect(decodeQspinlockWord(((3 + 1) << 18) | (1 << 16) | (1 << 8) | 1, 8))
      .toEqual({ locked: true, lockedByte: 1, pending: true, tailCpu: 3, tailIdx: 1 });
    expect(decodeQspinlockWord(0, 8)).toEqual({ locked: false, lockedByte: 0, pending: false, tailCpu: null, tailIdx: null });
    // NR_CPUS >= 16K: pending bit 8, idx 9-10, cpu+1 from bit 11
    expect(decodeQspinlockWord(((20000 + 1) << 11) | (2 << 9) | 3, 1))
      .toEqual({ locked: true, lockedByte: 3, pending: false, tailCpu: 20000, tailIdx: 2 });
  });
});

describe('--blocked rules sleeping tasks out cheaply, never a lock waiter (every primary dump)', () => {
  for (const d of dumps.filter((x) => x.primary)) {
    it(d.scenario, () => {
      const vm = open(d.path);
      const all = listTasks(vm).filter((t) => !t.isIdle);
      // the graph over D, S and I, against the full check of every task in those states
      const g = waitForGraph(vm, { states: 'DSI' });
      const full = all.filter((t) => 'DSI'.includes(t.state)).map((t) => taskBlockedOn(vm, t))
        .filter((w) => w.task.state === 'D' || w.blockedOn.kind === 'lock');
      expect(g.tasks.map((w) => w.task.pid)).toEqual(full.map((w) => w.task.pid).sort((a, b) => a - b));
      // freezable sleeps (TASK_FREEZABLE, v6.1+), which mayWaitOnLock rules out by state alone:
      // none waits on a lock; 6.1 dumps have some, 5.10 has no state with that bit
      const freezable = all.filter((t) => t.state !== 'D' && (t.stateBits & TASK_FREEZABLE) !== 0);
      for (const t of freezable) expect(taskBlockedOn(vm, t).blockedOn.kind, `${t.comm}(${t.pid})`).not.toBe('lock');
      if (d.kernel.release.startsWith('5.10.')) expect(freezable).toEqual([]);
      else expect(freezable.length).toBeGreaterThan(0);
    });
  }
});

describe('waits_for: D-state tasks equal extra.json (every scenario: test/cmd-lockinfo.test.ts)', () => {
  for (const d of [...hungs, soft]) {
    it(d.scenario, () => {
      const want = truth(d.scenario, 'extra.json').waits_for;
      const vm = open(d.path);
      const g = waitForGraph(vm, { states: 'D' });
      expect(g.tasks.length).toBe(want.d_state_tasks);
      const got = g.tasks.map((w) => {
        const b = w.blockedOn;
        return {
          pid: w.task.pid, comm: w.task.comm, task_struct: hx(w.task.address), stack: hx(w.stack),
          lock_addr: b.kind === 'lock' ? hx(b.lock.address) : null,
          lock_symbol: b.kind === 'lock' ? b.lock.symbol : null,
          lock_type: b.kind === 'lock' ? b.lock.type : null,
          owner_pid: b.kind === 'lock' ? b.owner?.pid ?? null : null,
          owner_comm: b.kind === 'lock' ? b.owner?.comm ?? null : null,
          stack_words_equal_to_task: w.stackWordsEqualToTask,
          ...(b.kind === 'lock' ? {
            waiter_addr: hx(b.waiter), position_in_wait_list: b.position, wait_list_length: b.waitListLength,
            owner_raw: b.ownerRaw === null ? null : hx(b.ownerRaw), owner_state: b.owner?.state,
          } : {}),
        };
      });
      const pick = (x: Json, ks: string[]): Json => Object.fromEntries(ks.map((k) => [k, x[k]]));
      expect(got.map((x) => x.pid)).toEqual(want.waits_for.map((x: Json) => x.pid));
      got.forEach((x, i) => expect(x).toEqual(pick(want.waits_for[i], Object.keys(x))));
      // non-lock waits say what they are, never a lock
      for (const w of g.tasks.filter((t) => t.blockedOn.kind !== 'lock')) {
        const wantNote = want.waits_for.find((x: Json) => x.pid === w.task.pid);
        expect(wantNote.lock_addr).toBeNull();
        if (wantNote.blocked_in.includes('wait_for_completion')) {
          expect(w.blockedOn.kind).toBe('completion');
          expect(w.blockedIn.join(' ')).toMatch(/wait_for_completion/);
        }
      }
    });
  }

  it('the softlockup kworker waits on a completion on its own stack', () => {
    const vm = open(soft.path);
    const want = truth(soft.scenario, 'extra.json').waits_for.waits_for[0];
    const w = taskBlockedOn(vm, want.pid);
    expect(w.blockedOn.kind).toBe('completion');
    if (w.blockedOn.kind === 'completion') {
      expect(w.blockedOn.onStackOf?.pid).toBe(want.pid);
      expect(w.blockedOn.note).toMatch(/not a lock/);
    }
  });
});
