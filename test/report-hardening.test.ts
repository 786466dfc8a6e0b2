/**
 * `vaat report` and the fleet pool on hostile ground (issue #16, defect 6): report directory
 * names are unique and stable, an unusable output directory is refused before any dump is
 * analysed (even under /proc), and a dump that hangs is cut off by --timeout with its row marked.
 * (Ctrl-C during the run: test/fleet-cli.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vaat } from './cli.js';
import { fixturePath, scratch } from './hostile/inputs.js';
import { reportName } from '../src/fleet/report.js';

let s: ReturnType<typeof scratch>;
let fleet: string;
beforeAll(() => {
  s = scratch('vaat-report-');
  // two dumps whose paths differ only where the old name mapping was lossy
  fleet = s.path('fleet');
  for (const [dir, fixture] of [['x y', 'sysrq-basic/vmcore.kdump-lzo'], ['x_y', 'sysrq-basic/vmcore.kdump-zlib']]) {
    mkdirSync(join(fleet, dir), { recursive: true });
    symlinkSync(fixturePath(fixture), join(fleet, dir, 'vmcore'));
  }
});
afterAll(() => s.cleanup());

describe('report directory names', () => {
  it('are unique where the readable form is lossy, and the same on every run', () => {
    const names = ['x y/vmcore', 'x_y/vmcore', 'x?y/vmcore', 'a__b/vmcore', 'a/b__vmcore', 'a_/b', 'a/_b'].map((p) => reportName(['/r'], `/r/${p}`));
    expect(new Set(names).size).toBe(names.length);
    expect(reportName(['/r'], '/r/x y/vmcore')).toBe(names[0]);
    // a plain kdump layout keeps its readable name
    expect(reportName(['/r'], '/r/web1-2026-11-21-21:41/vmcore')).toBe('web1-2026-11-21-21:41__vmcore');
  });
  it('two colliding dumps get two reports, both kept, both skipped unchanged on a re-run', async () => {
    const out = s.path('out');
    const r1 = await vaat(['report', '-d', fleet, '-o', out, '--json']);
    expect(r1.status, r1.stderr).toBe(0);
    const dirs = readdirSync(out).filter((d) => existsSync(join(out, d, 'summary.json')));
    expect(dirs).toHaveLength(2);
    expect(JSON.parse(r1.stdout).written).toHaveLength(2);
    const r2 = JSON.parse((await vaat(['report', '-d', fleet, '-o', out, '--json'])).stdout);
    expect(r2.skipped).toHaveLength(2);
    expect(r2.written).toHaveLength(0);
  }, 600_000);
});

describe('the output directory is checked before any dump is analysed', () => {
  it('-o under /proc returns at once: exit 2, one line naming it', async () => {
    const r = await vaat(['report', '-d', fleet, '-o', '/proc/vaat'], { timeout: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^vaat: cannot write reports to \/proc\/vaat: /)]);
  });
  it('-o naming a file, or a directory under one: exit 2', async () => {
    const f = s.path('a-file');
    writeFileSync(f, 'x');
    for (const o of [f, join(f, 'sub')]) {
      const r = await vaat(['report', '-d', fleet, '-o', o]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/cannot write reports to/);
    }
  });
});

describe('--timeout', () => {
  it('a dump over the per-dump limit is a failed row marked timed out; the run goes on', async () => {
    const r = await vaat(['sys', '-d', fleet, '--timeout', '0.01', '--json']);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    const rows = JSON.parse(r.stdout) as { ok: boolean; error?: string; timedOut?: boolean }[];
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatchObject({ ok: false, timedOut: true, error: expect.stringMatching(/timed out: not finished after 0 s \(--timeout\)/) });
  });
  it('a malformed limit is a usage error', async () => {
    expect((await vaat(['sys', '-d', fleet, '--timeout', 'soon'])).status).toBe(2);
  });
});
