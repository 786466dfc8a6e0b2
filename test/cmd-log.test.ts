/** `vaat log` through the CLI: tail, wall-clock time and JSON records. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumps, fixturesDir } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';

const oops = dumps.find((d) => d.scenario === 'oops-null-a')!;

describe('vaat log', () => {
  it('prints the tail as crash log does', async () => {
    const crash = readFileSync(join(fixturesDir, oops.scenario, 'truth', 'crash', 'log.txt'), 'utf8').trimEnd().split('\n');
    const r = await vaat(['log', oops.path, '--tail', '5']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual(crash.slice(-lines.length));
    expect(lines.length).toBeGreaterThanOrEqual(5);
  });

  it('--json carries records and printed lines; -T uses crash time - uptime', async () => {
    const r = await vaatJson(['log', oops.path, '--tail', '3', '-T']);
    expect(r.records).toHaveLength(3);
    expect(Object.keys(r.records[0]).sort()).toEqual(['caller', 'level', 'seq', 'text', 'time']);
    expect(r.total).toBeGreaterThan(400);
    // crash time 21:43:07 less 12.2 s of jiffies uptime: booted 21:42:55
    expect(r.bootTime).toBe(Date.UTC(2026, 10, 21, 21, 42, 55) / 1000);
    expect(r.lines.at(-1)).toMatch(/^\[Sat Nov 21 21:43:0\d 2026\] /);
  });

  it('--level keeps the urgent records', async () => {
    const r = await vaatJson(['log', oops.path, '--level', '1']);
    expect(r.records.length).toBeGreaterThan(0);
    expect(r.records.every((x: { level: number }) => x.level <= 1)).toBe(true);
    expect(r.records.some((x: { text: string }) => x.text.startsWith('BUG: kernel NULL pointer dereference'))).toBe(true);
  });
});
