/** vaat stacks: every task's kernel stack, grouped by state and identical call chain, most common first. */
import { defineCommand } from '../src/plugin.js';
import { taskStack } from '../src/kernel/stack.js';
import { forEachTask } from '../src/kernel/tasks.js';

interface StacksOptions { json?: boolean; state?: string }

export interface StackGroup {
  count: number;
  state: string;
  /** outermost last; user-space frames as '[user]' */
  functions: string[];
  pids: number[];
  comms: string[];
  stoppedBecause: string;
}

export interface StacksResult { tasks: number; groups: StackGroup[] }

export default defineCommand<StacksOptions, StacksResult>({
  name: 'stacks',
  summary: 'all tasks grouped by state and identical kernel stack, most common first',
  options: [{ flags: '-s, --state <letters>', description: 'only tasks in these states, e.g. D or RD' }],
  run({ vm, options }) {
    const groups = new Map<string, StackGroup>();
    let tasks = 0;
    for (const t of forEachTask(vm)) {
      if (options.state && !options.state.includes(t.state)) continue;
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
  },
  render(r, out) {
    const c = out.c;
    out.line(c.dim(`${r.tasks} tasks in ${r.groups.length} groups`));
    for (const g of r.groups) {
      out.line();
      const comms = g.comms.length > 4 ? `${g.comms.slice(0, 4).join(', ')}, ...` : g.comms.join(', ');
      const pids = g.pids.length > 8 ? `${g.pids.slice(0, 8).join(' ')} ...` : g.pids.join(' ');
      out.line(c.bold(`${String(g.count).padStart(4)} × ${g.state}  ${comms}`) + c.dim(`  (pid ${pids})`));
      for (const f of g.functions) out.line(`         ${f}`);
      if (!/^(user mode|end of stack)/.test(g.stoppedBecause)) out.line(c.yellow(`         (stopped: ${g.stoppedBecause})`));
    }
  },
});
