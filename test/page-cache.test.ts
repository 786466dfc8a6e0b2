/**
 * The decoded-page cache of an open dump has a size limit (openVmcore's pageCacheBytes, the CLI's
 * --page-cache, $VAAT_PAGE_CACHE_MB; 16 MiB by default): a walk over every task never holds more
 * decoded pages than that, whatever the size, and the answers do not depend on it. It fills past
 * 2 MiB only when re-reads would have hit (native/page_cache.h).
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

  it('fills past one 2 MiB step only when pages it evicted are read again (a one-pass walk stays small)', () => {
    const vm = openVmcore(d.path, { vmlinux: false });
    try {
      // physical pages the dump holds (makedumpfile -d 31 leaves out free and zero pages)
      const held: bigint[] = [];
      for (let pfn = 0n; pfn < 1n << 16n && held.length < 3000; pfn++) {
        try { vm.dump.readPhys(pfn * 4096n, 8); held.push(pfn * 4096n); } catch { /* excluded */ }
      }
      expect(held.length).toBe(3000);
      const st = vm.dump.cacheStats();
      const step = Math.max(64, (2 << 20) / st.pageBytes);
      // one pass over 3,000 pages: nothing read twice, nothing gained by more room
      expect(st.pages).toBe(step);
      // a working set of 1,500 pages read round and round: the cache grows to hold it ...
      const again = openVmcore(d.path, { vmlinux: false });
      try {
        const set = held.slice(0, 1500);
        for (let pass = 0; pass < 3; pass++) for (const a of set) again.dump.readPhys(a, 8);
        const grown = again.dump.cacheStats();
        expect(grown.pages).toBe(1500);
        // ... and the answers are the pages themselves, as a cache without growth reads them
        const small = openVmcore(d.path, { vmlinux: false, pageCacheBytes: 64 * 4096 });
        try {
          for (const a of set.filter((_, i) => i % 97 === 0)) expect(again.dump.readPhys(a, 4096).equals(small.dump.readPhys(a, 4096))).toBe(true);
        } finally { small.close(); }
      } finally { again.close(); }
    } finally {
      vm.close();
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
