/** vaat stacks: every task's kernel stack, grouped by state and identical call chain, most common first. */
import { defineCommand } from '../src/plugin.js';
import { groupTaskStacks, type StackGroup } from '../src/kernel/stack/groups.js';

export type { StackGroup };

interface StacksOptions { json?: boolean; state?: string }

export interface StacksResult { tasks: number; groups: StackGroup[] }

export default defineCommand<StacksOptions, StacksResult>({
  name: 'stacks',
  jsonl: 'groups',
  summary: 'all tasks grouped by state and identical kernel stack, most common first',
  options: [{ flags: '-s, --state <letters>', description: 'only tasks in these states, e.g. D or RD' }],
  run({ vm, options }) {
    return groupTaskStacks(vm, options.state);
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
