/** The README's library example runs as written, on the sample vmcore it names. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { projectRoot } from './fixtures.js';

describe('README', () => {
  it('the library example prints the blocked tasks, runqueues and the cgroup_mutex owner', () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const code = readme.match(/```ts\n([\s\S]*?)```/)?.[1];
    expect(code).toContain("from 'vaat'");
    // inside the package, so `import 'vaat'` resolves to this checkout; run from the root for the sample's path
    const dir = mkdtempSync(join(projectRoot, 'dist', 'readme-'));
    try {
      writeFileSync(join(dir, 'example.mjs'), code!);
      const r = spawnSync(process.execPath, [join(dir, 'example.mjs')], { cwd: projectRoot, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      // the sample is cgroup-mutex-hung: three mkdir tasks in D, vaat_holder owns cgroup_mutex
      expect(lines.filter((l) => / mkdir /.test(l))).toHaveLength(3);
      expect(lines).toContain('mutex vaat_holder');
      expect(lines.filter((l) => /^[0-3] \d+ \S+$/.test(l))).toHaveLength(4);
      expect(lines[lines.length - 1]).toMatch(/^swapper\/0 \d+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
