/**
 * The dump page built from report data, without a browser: a deadlock cycle is marked in the
 * wait-for graph's data, and a report whose analyses all failed still renders, saying so.
 */
import { describe, expect, it } from 'vitest';
import { renderDumpPage, type DumpPageData } from '../src/report/html/index.js';
import type { ReportSummary } from '../src/fleet/report.js';

const summary: ReportSummary = {
  format: 1, path: '/crash/vmcore', dir: 'vmcore', size: 1, mtimeMs: 0, buildId: null, generatedAt: '2026-01-01T00:00:00Z',
  overview: null, title: null, analyses: [],
};
const empty: DumpPageData = {
  summary, sys: null, signature: null, bt: null, stacks: null, runq: null, runqGroups: null, ps: null, locks: null,
  cgroups: null, cpus: null, log: null, mod: null, similar: null, bucket: null,
};

/** the page's embedded data, as its script reads it */
function clientData(html: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  const m = html.match(/<script type="application\/json" id="vaat-data">([\s\S]*?)<\/script>/);
  return JSON.parse(m![1]);
}

const wait = (pid: number, comm: string, lock: string, owner: number, ownerComm: string) => ({
  pid, comm, state: 'D', kind: 'lock', lockAddress: lock, lockSymbol: null, lockKind: 'mutex', ownerPid: owner, ownerComm: ownerComm,
  ownerState: 'D', waitAddress: null, note: `waits on ${lock} (mutex)`, blockedIn: ['__mutex_lock'], waited: { seconds: 1.5 },
});

describe('dump page', () => {
  it('marks a deadlock cycle in the wait-for graph: both tasks, both locks, all four edges', () => {
    const html = renderDumpPage({
      ...empty,
      stacks: { tasks: 3, groups: [{ count: 3, state: 'D', functions: ['__mutex_lock', 'a'], pids: [10, 11, 12], comms: ['a', 'b', 'c'] }] },
      locks: {
        mode: 'blocked',
        tasks: [wait(12, 'c', '0xffff1', 11, 'b'), wait(10, 'a', '0xffff1', 11, 'b'), wait(11, 'b', '0xffff2', 10, 'a')],
        chains: [
          { text: 'a(10) D → 0xffff1 → b(11) D → 0xffff2 → a(10)', pids: [10, 11, 10], cycle: true, end: 'cycle' },
          { text: 'c(12) D → 0xffff1 → b(11) D', pids: [12, 11, 10], cycle: false, end: 'joins the cycle' },
        ],
        cycles: [{ text: 'a(10) D → 0xffff1 → b(11) D → 0xffff2 → a(10)', pids: [10, 11, 10], cycle: true, end: 'cycle' }],
      },
    });
    const g = clientData(html).graph;
    const node = (id: string) => g.nodes.find((n: { id: string }) => n.id === id);
    expect(node('task:10').cycle).toBe(true);
    expect(node('task:11').cycle).toBe(true);
    expect(node('task:12').cycle).toBe(false);
    expect(node('lock:0xffff1').cycle).toBe(true);
    expect(node('lock:0xffff2').cycle).toBe(true);
    const edge = (a: string, b: string) => g.edges.find((e: { from: string; to: string }) => e.from === a && e.to === b);
    for (const [a, b] of [['task:10', 'lock:0xffff1'], ['lock:0xffff1', 'task:11'], ['task:11', 'lock:0xffff2'], ['lock:0xffff2', 'task:10']]) {
      expect(edge(a, b)?.cycle, `${a}>${b}`).toBe(true);
    }
    expect(edge('task:12', 'lock:0xffff1')?.cycle).toBe(false);
    // every task node links to its stack group
    expect(node('task:12').href).toBe('#stack-0');
    expect(html).toMatch(/<li class="cycle"><strong>cycle:<\/strong>/);
    expect(html).toContain('1 deadlock cycle (highlighted)');
  });

  it('renders a report whose analyses all failed, each section saying so', () => {
    const html = renderDumpPage({ ...empty, summary: { ...summary, analyses: [{ file: 'ps', command: 'ps', argv: [], ok: false, ms: 3, error: 'task list unreadable' }] } });
    for (const id of ['waits', 'runq', 'tasks', 'stacks', 'cgroups', 'cpus', 'log']) {
      const sec = html.match(new RegExp(`<section id="${id}"[\\s\\S]*?</section>`))?.[0] ?? '';
      expect(sec, id).toMatch(/Not available|not available/);
    }
    expect(html).toContain('<strong class="bad">failed</strong>: task list unreadable');
    expect(clientData(html)).toEqual({ kind: 'dump', charts: {}, graph: null, tasks: null });
  });
});
