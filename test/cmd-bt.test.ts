/** `vaat bt -a --json`: one trace per CPU, the task drgn saw on it, stable field names. */
import { describe, expect, it } from 'vitest';
import { drgnTruth, dumps } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';


describe('vaat bt -a', () => {
  for (const scenario of ['sysrq-basic', 'softlockup']) {
    it(`${scenario}: --json has a trace per CPU with the task on it`, async () => {
      const d = dumps.find((x) => x.scenario === scenario)!;
      const r = await vaatJson(['bt', d.path, '-a']);
      const active = drgnTruth(scenario).active_backtraces as Record<string, { pid: number; comm: string }>;
      expect(r.traces.map((t: { cpu: number }) => t.cpu).sort()).toEqual(Object.keys(active).map(Number).sort());
      for (const t of r.traces) {
        expect(Object.keys(t).sort()).toEqual(['comm', 'cpu', 'frames', 'pid', 'startedFrom', 'stoppedBecause', 'task']);
        expect({ pid: t.pid, comm: t.comm }).toEqual({ pid: active[t.cpu].pid, comm: active[t.cpu].comm });
        expect(t.startedFrom).toBe('prstatus');
        expect(t.frames.length).toBeGreaterThan(0);
        for (const f of t.frames) expect(f.pc).toMatch(/^0x[0-9a-f]+$/);
      }
      // people's form: crash's "PID: … TASK: … CPU: … COMMAND:" header for each
      const text = (await vaat(['bt', d.path, '-a'])).stdout;
      expect(text.match(/^PID: +\d+ +TASK: [0-9a-f]+ +CPU: \d+ +COMMAND: "/gm)).toHaveLength(r.traces.length);
    });
  }
});
