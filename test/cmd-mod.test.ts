/** `vaat mod` through the CLI, against crash's `mod` output and drgn's module list. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { drgnTruth, dumps, fixturesDir, truth } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';

describe('vaat mod', () => {
  it.each(['qemu-dump', 'softlockup'])('%s: crash mod\'s module, name, base and size', async (scenario) => {
    const d = dumps.find((x) => x.scenario === scenario)!;
    const r = await vaatJson(['mod', d.path]);
    const crash = readFileSync(join(fixturesDir, scenario, 'truth', 'crash', 'mod.txt'), 'utf8').trim().split('\n').slice(1)
      .map((l) => l.trim().split(/\s+/)).map(([module, name, base, size]) => ({ module: `0x${module}`, name, base: `0x${base}`, size: Number(size) }));
    const got = r.modules.map((m: { module: string; name: string; base: string; size: number }) => ({ module: m.module, name: m.name, base: m.base, size: m.size }));
    expect(got.sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name))).toEqual(crash.sort((a, b) => a.name.localeCompare(b.name)));
    expect(r.count).toBe((scenario === 'qemu-dump' ? drgnTruth(scenario) : truth(scenario)).modules.length);
  });

  it('prints taints and users', async () => {
    const d = dumps.find((x) => x.scenario === 'qemu-dump')!;
    const r = await vaat(['mod', d.path]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^MODULE\s+NAME\s+BASE\s+SIZE\s+STATE\s+TAINTS\s+REFS$/m);
    expect(r.stdout).toMatch(/^[0-9a-f]{16}\s+pvpanic\s+[0-9a-f]{16}\s+16384\s+live\s+1$/m);
    const s = dumps.find((x) => x.scenario === 'softlockup')!;
    expect((await vaat(['mod', s.path])).stdout).toMatch(/vaat_softlock\s+[0-9a-f]{16}\s+16384\s+live\s+\(OE\)\s+0$/m);
  });
});
