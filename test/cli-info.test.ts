/** `vaat info` on every real fixture, checked against drgn's truth, the MANIFEST and makedumpfile's own report. */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { debugVmlinux, dumps, manifest, primaryTruth, typesMode } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';

/**
 * Pages the dump holds and leaves out, counted straight from a plain kdump-compressed file's two
 * bitmaps (1st: RAM pages, 2nd: pages written). makedumpfile.log's own "Remaining pages" figures
 * do not match the files it wrote (see the closing note), so the bitmaps are the oracle.
 */
function bitmapCounts(file: string): { present: number; excluded: number } {
  const all = readFileSync(file);
  const bs = all.readInt32LE(428), sub = all.readInt32LE(432), bmp = all.readUInt32LE(436);
  const half = (bmp / 2) * bs;
  const first = all.subarray((1 + sub) * bs, (1 + sub) * bs + half);
  const second = all.subarray((1 + sub) * bs + half, (1 + sub) * bs + 2 * half);
  let ram = 0, dumped = 0;
  for (let i = 0; i < half; i++) {
    for (let b = first[i]; b; b &= b - 1) ram++;
    for (let b = second[i] & first[i]; b; b &= b - 1) dumped++;
  }
  return { present: dumped, excluded: ram - dumped };
}

describe('vaat info on every fixture', () => {
  for (const d of dumps) {
    it(`${d.scenario}/${d.name}`, async () => {
      const t = primaryTruth(d.scenario);
      const r = await vaatJson(['info', d.path]);
      expect(r.release).toBe(t.uname.release);
      expect(r.buildId).toBe(t.vmcoreinfo['BUILD-ID']);
      // QEMU's dump-guest-memory runs without kdump, so there is no CRASHTIME (drgn has none either).
      if (t.crash_time === null) expect(r.crashTime).toBeNull();
      else expect(r.crashTime).toEqual({ unix: t.crash_time.unix, utc: t.crash_time.utc });
      expect(r.cpus).toBe(t.cpus.nr_cpu_ids);
      expect(r.panicCpu.cpu).toBe(t.panic_task.cpu);
      expect(manifest(d.scenario)).toContain(`cpus=${r.cpus}`);
      expect(r.arch).toBe(t.uname.machine);
      expect(r.pageSize).toBe(t.vmcoreinfo.PAGESIZE ? Number(t.vmcoreinfo.PAGESIZE) : 4096);
      // Memory the dump covers: every RAM page it knows of, dumped or excluded: the guest's RAM
      // (the MANIFEST's QEMU -m) less, for kdump's /proc/vmcore, the crashkernel= reservation;
      // QEMU's own dumps cover all of it (x86's, a few pages past it). Firmware keeps up to 8 MiB on x86.
      expect(r.memorySize).toBe((r.pages.present + r.pages.excluded) * r.pageSize);
      const mib = r.memorySize / 2 ** 20;
      const ram = Number(/ -m (\d+)\b/.exec(manifest(d.scenario))![1]);
      const reserved = d.name.startsWith('vmcore.qemu') ? 0 : Number(/crashkernel=(\d+)M/.exec(manifest(d.scenario))?.[1] ?? 0);
      const [lo, hi] = [ram - reserved - 8, ram - reserved + 1];
      expect(mib).toBeGreaterThan(lo);
      expect(mib).toBeLessThanOrEqual(hi);

      // Format by content, matching how the fixture was written.
      const expected: Record<string, [string, string | null, string]> = {
        'vmcore.kdump-lzo': ['kdump-compressed', null, 'lzo'],
        'vmcore.kdump-zlib': ['kdump-compressed', null, 'zlib'],
        'vmcore.kdump-zstd': ['kdump-compressed', null, 'zstd'],
        'vmcore.kdump-snappy': ['kdump-compressed', null, 'snappy'],
        'vmcore.flat-lzo': ['kdump-compressed', 'flattened', 'lzo'],
        'vmcore.elf-d31.lzo': ['elf', 'lzop', 'none'],
        'vmcore.qemu-kdump-zlib': ['kdump-compressed (qemu)', null, 'zlib'],
      };
      const [format, container, codec] = expected[d.name];
      expect(r.format).toBe(format);
      expect(r.container).toBe(container);
      expect(r.codec).toBe(codec);
      expect(r.truncated).toBe(false);
      // Symbols from the kernel's own kallsyms; types from DWARF when a matching vmlinux is
      // installed (the test set-up installs Debian's -dbg package), else from the dump's own BTF.
      expect(r.sources.symbols).toMatch(/kallsyms/);
      if (typesMode(d.kernel) !== 'dwarf') expect(r.sources.types).toMatch(/BTF in the dump/);
      else expect(r.sources.types.startsWith(`DWARF ${debugVmlinux(d.kernel)} (build-id ${readFileSync(join(d.kernel.dir, 'vmlinux.build-id'), 'utf8').trim()}`)).toBe(true);
      // and without debuginfo, the dump alone is enough
      expect((await vaatJson(['info', d.path, '--no-vmlinux'])).sources.types).toMatch(/BTF in the dump/);

      if (d.name.startsWith('vmcore.kdump') || d.name.startsWith('vmcore.flat')) {
        // makedumpfile -d 31 for every kdump file but QEMU's
        if (d.name.startsWith('vmcore.qemu')) {
          // QEMU's dump-guest-memory leaves out only zero pages and records dump level 1
          expect(r.dumpLevel).toBe(1);
          expect(r.excludedClasses).toEqual(['zero']);
        } else {
          expect(r.dumpLevel).toBe(31);
          expect(r.excludedClasses).toEqual(['zero', 'cache', 'cache-private', 'user', 'free']);
        }
      }
      if (d.name.startsWith('vmcore.kdump')) expect(r.pages).toEqual(bitmapCounts(d.path));
    });
  }

  it('prints a readable block for people', async () => {
    const d = dumps.find((x) => x.scenario === 'sysrq-basic' && x.name === 'vmcore.kdump-lzo')!;
    const r = await vaat(['info', d.path]);
    expect(r.status).toBe(0);
    const t = primaryTruth(d.scenario);
    expect(r.stdout).toContain(`RELEASE: ${t.uname.release}\n`);
    expect(r.stdout).toMatch(/DUMP LEVEL: 31 \(excluded: zero, cache, cache-private, user, free\)/);
    expect(r.stdout).toContain(`CRASH TIME: ${t.crash_time.utc} (${t.crash_time.unix})`);
    expect(r.stdout).not.toMatch(/\x1b\[/); // NO_COLOR and not a TTY: no escape codes
  });
});
