/**
 * Tasks grouped by (state, identical kernel call chain): the fastest way to see what a hung
 * machine was doing. Used by `vaat stacks`, the triage summary and crash signatures.
 */
import type { KernelContext } from '../../context.js';
import { taskStack } from './index.js';
import { listTasks } from '../tasks.js';

export interface StackGroup {
  count: number;
  state: string;
  /** innermost first; user-space frames as '[user]' */
  functions: string[];
  pids: number[];
  comms: string[];
  stoppedBecause: string;
}

/** every task (optionally only those in `states`, e.g. 'D'), grouped, most common first */
export function groupTaskStacks(vm: KernelContext, states?: string): { tasks: number; groups: StackGroup[] } {
  const groups = new Map<string, StackGroup>();
  let tasks = 0;
  // listTasks is read once per dump: the summary and signatures walk the tasks for other reasons too
  for (const t of listTasks(vm)) {
    if (states && !states.includes(t.state)) continue;
    tasks++;
    const s = taskStack(vm, t.address);
    const functions = s.frames.map((f) => (f.user ? '[user]' : f.function ?? f.text));
    const key = `${t.state}|${functions.join('<')}`;
    let g = groups.get(key);
    if (!g) {
      g = { count: 0, state: t.state, functions, pids: [], comms: [], stoppedBecause: s.stoppedBecause };
      groups.set(key, g);
    }
    g.count++;
    g.pids.push(t.pid);
    if (!g.comms.includes(t.comm)) g.comms.push(t.comm);
  }
  const sorted = [...groups.values()].sort((a, b) => b.count - a.count || a.state.localeCompare(b.state));
  return { tasks, groups: sorted };
}
