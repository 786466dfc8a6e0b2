/**
 * Tasks grouped by (state, identical kernel call chain): the fastest way to see what a hung
 * machine was doing. Used by `vaat stacks`, the triage summary and crash signatures.
 */
import type { KernelContext } from '../../context.js';
import { taskStack } from './index.js';
import { eachTask } from '../tasks.js';

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
  const commsSeen = new Map<StackGroup, Set<string>>(); // comms.includes() per task was n² in a group of n distinct names
  let tasks = 0;
  // eachTask: each task unwound right after the walk read it (its pages still cached), and the
  // list kept for the summary and signatures, which walk the tasks for other reasons too
  for (const t of eachTask(vm)) {
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
    let seen = commsSeen.get(g);
    if (!seen) commsSeen.set(g, (seen = new Set()));
    if (!seen.has(t.comm)) { seen.add(t.comm); g.comms.push(t.comm); }
  }
  const sorted = [...groups.values()].sort((a, b) => b.count - a.count || a.state.localeCompare(b.state));
  return { tasks, groups: sorted };
}
