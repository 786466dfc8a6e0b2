/**
 * Wait-for chains as people read them (`mkdir(309) D → cgroup_mutex (mutex) → held by
 * vaat_holder(307) S`), shared by `vaat lockinfo --blocked` and `vaat summary`, and the chains
 * grouped by the lock their first waiter waits on.
 */
import type { WaitChain } from '../kernel/locking/waits.js';
import { hex } from '../output/style.js';

export interface ChainJson { text: string; pids: number[]; cycle: boolean; end: string }

/** the chain's parts (`mkdir(309) D`, `cgroup_mutex (mutex)`, `held by vaat_holder(307) S`...) and what ends it */
function chainParts(c: WaitChain): { parts: string[]; suffix: string } {
  const parts: string[] = [];
  c.steps.forEach((s, i) => {
    if (i > 0 && parts.length) parts.push(`held by ${s.task.comm}(${s.task.pid}) ${s.task.state}`);
    else parts.push(`${s.task.comm}(${s.task.pid}) ${s.task.state}`);
    const w = s.wait;
    if (w.kind === 'lock') parts.push(`${w.lock.symbol ?? hex(w.lock.address)} (${w.lock.kind})`);
  });
  let suffix = '';
  if (c.cycle) {
    const back = c.steps[c.cycleStart ?? 0].task;
    suffix = ` → held by ${back.comm}(${back.pid}): DEADLOCK`;
  } else if (!c.steps.some((s, i) => i > 0)) suffix = ` (${c.end})`;
  return { parts, suffix };
}

/** `mkdir(309) D → cgroup_mutex (mutex) → held by vaat_holder(307) S` */
export function chainJson(c: WaitChain): ChainJson {
  const { parts, suffix } = chainParts(c);
  return { text: parts.join(' → ') + suffix, pids: c.steps.map((s) => s.task.pid), cycle: c.cycle, end: c.end };
}

export interface ChainGroup {
  /** how many chains start by waiting on this lock */
  waiters: number;
  /** the chain from the lock on: `cgroup_mutex (mutex) → held by vaat_holder(307) S` */
  what: string;
  /** the first waiter of each chain */
  pids: number[];
}

/** chains grouped by what their first task waits on (the lock, and who holds it onwards), most waiters first */
export function groupChains(chains: readonly WaitChain[]): ChainGroup[] {
  const groups = new Map<string, ChainGroup>();
  for (const c of chains) {
    // the same lock and the same steps beyond it: one group
    const key = c.steps.map((s, i) => `${i === 0 ? '' : s.task.address}:${s.wait.kind === 'lock' ? s.wait.lock.address : ''}`).join('/');
    let g = groups.get(key);
    if (!g) {
      const { parts, suffix } = chainParts(c);
      g = { waiters: 0, what: parts.slice(1).join(' → ') + suffix, pids: [] };
      groups.set(key, g);
    }
    g.waiters++;
    g.pids.push(c.steps[0].task.pid);
  }
  return [...groups.values()].sort((a, b) => b.waiters - a.waiters);
}
