/**
 * The decoded-page cache of an open dump has a size limit (openVmcore's pageCacheBytes, the CLI's
 * --page-cache, $VAAT_PAGE_CACHE_MB; 16 MiB by default): a walk over every task never holds more
 * decoded pages than that, whatever the size, and the answers do not depend on it.
 */
import { describe, expect, it } from 'vitest';
import { openVmcore } from '../src/vmcore.js';
import { DEFAULT_PAGE_CACHE_BYTES, pageCacheBytes } from '../src/dump/dump.js';
import { listTasks } from '../src/kernel/tasks.js';
import { dumpsOf, primaryTruth, truth } from './fixtures.js';
import { vaat } from './cli.js';

// a makedumpfile kdump file (compressed pages: every cache miss is a decompression)
const d = dumpsOf('sysrq-basic', { primary: true })[0];

describe('page cache limit', () => {
  it('holds at most its size in pages during a whole task walk, and answers the same at every size', () => {
    const truthPids = primaryTruth(d.scenario).tasks.map((t: { pid: number }) => t.pid).sort((a: number, b: number) => a - b);
    for (const bytes of [0, 64 * 4096, 1 << 20, DEFAULT_PAGE_CACHE_BYTES]) {
      const vm = openVmcore(d.path, { pageCacheBytes: bytes, vmlinux: false });
      try {
        const pids = listTasks(vm).filter((t) => !t.isIdle).map((t) => t.pid).sort((a, b) => a - b);
        expect(pids, `pageCacheBytes ${bytes}`).toEqual(truthPids);
        const st = vm.dump.cacheStats();
        // never fewer than 64 pages (a task_struct spans 2-3), else the bytes asked for
        expect(st.capacityPages).toBe(Math.max(64, Math.floor(bytes / st.pageBytes)));
        expect(st.pages).toBeGreaterThan(0);
        expect(st.pages).toBeLessThanOrEqual(st.capacityPages);
      } finally {
        vm.close();
      }
    }
  });

  it('is 16 MiB unless the option or $VAAT_PAGE_CACHE_MB says otherwise, and refuses nonsense', () => {
    const saved = process.env.VAAT_PAGE_CACHE_MB;
    try {
      delete process.env.VAAT_PAGE_CACHE_MB;
      expect(pageCacheBytes(undefined)).toBe(16 << 20);
      process.env.VAAT_PAGE_CACHE_MB = '2.5';
      expect(pageCacheBytes(undefined)).toBe(2.5 * 1024 * 1024);
      expect(pageCacheBytes(4096)).toBe(4096);
      process.env.VAAT_PAGE_CACHE_MB = 'lots';
      expect(() => pageCacheBytes(undefined)).toThrow(/VAAT_PAGE_CACHE_MB must be a number of MiB/);
      expect(() => pageCacheBytes(-1)).toThrow(/page cache size/);
    } finally {
      if (saved === undefined) delete process.env.VAAT_PAGE_CACHE_MB; else process.env.VAAT_PAGE_CACHE_MB = saved;
    }
  });

  it('--page-cache sets it from the command line; a bad value is a usage error (exit 2)', async () => {
    const ok = await vaat(['ps', d.path, '--page-cache', '1', '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).count).toBe(truth(d.scenario, 'extra.json').sys.tasks);
    const bad = await vaat(['ps', d.path, '--page-cache', 'big']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--page-cache takes a number of MiB/);
  });
});
