/**
 * The fixture sets: every dump under ../shared/fixtures belongs to a kernel set, and every set
 * of a tested architecture is in the per-fixture tests (test/fixtures.ts `dumps`).
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { allDumps, dumps, dumpsOf, testedArches, testedKernels } from './fixtures.js';

describe('fixture sets', () => {
  it('the 6.1 and 5.10 x86_64 sets are tested, each with its kernel files', () => {
    const releases = testedKernels.map((k) => k.release).sort();
    expect(releases).toEqual(expect.arrayContaining(['5.10.0-43-cloud-amd64', '6.1.0-54-cloud-amd64']));
    for (const k of testedKernels) {
      expect(existsSync(k.systemMap)).toBe(true);
      expect(existsSync(k.modulesDir)).toBe(true);
    }
  });

  it('cgroup-mutex-hung runs on every tested kernel', () => {
    const withHung = new Set(dumpsOf('cgroup-mutex-hung').map((d) => d.kernel.release));
    expect([...withHung].sort()).toEqual(testedKernels.map((k) => k.release).sort());
  });

  it('every dump of a tested architecture is tested', () => {
    expect(dumps.length).toBe(allDumps.filter((d) => testedArches.has(d.kernel.arch)).length);
  });
});
