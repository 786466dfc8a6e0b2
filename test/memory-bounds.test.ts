/**
 * Memory and work follow the file, not what its headers claim (issue #16, defects 5 and 9):
 * header-claimed sizes are checked against the file size and a budget before anything is
 * allocated, and a few damaged bytes in kernel memory cannot make the kallsyms search read the
 * whole kernel image. Peak memory is measured in a child process (its own maxRSS).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './fixtures.js';
import { elfFileOffset, hugeMapnrKdump, hugePhnumElf, plainElf, scratch, writeAt } from './hostile/inputs.js';
import { openVmcore } from '../src/vmcore.js';
import { findKallsyms } from '../src/symbols/kallsyms.js';
import type { MemoryReader } from '../src/dump/dump.js';

let s: ReturnType<typeof scratch>;
beforeAll(() => { s = scratch('vaat-bounds-'); });
afterAll(() => s.cleanup());

/** open `file` in a child process; its error class and message, and its peak RSS in MiB */
function openInChild(file: string): { error: string | null; message: string; maxRssMiB: number } {
  const script = join(s.dir, 'open.mjs');
  writeFileSync(script, `
const { openVmcore } = await import(${JSON.stringify(join(projectRoot, 'dist/src/index.js'))});
let error = null, message = '';
try { openVmcore(process.argv[2], { vmlinux: false }).close(); } catch (e) { error = e.constructor.name; message = e.message; }
console.log(JSON.stringify({ error, message, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
`);
  const r = spawnSync(process.execPath, [script, file], { encoding: 'utf8', timeout: 120_000 });
  expect(r.signal, r.stderr).toBeNull();
  return JSON.parse(r.stdout);
}

// the same open on an intact dump, for scale: what any open of a small file costs
let baselineMiB = 0;
beforeAll(() => { baselineMiB = openInChild(join(projectRoot, 'package.json')).maxRssMiB; });

describe('defect 5: header claims are checked before allocating', () => {
  it('a 64 KiB kdump file claiming 2^34 pages is refused as corrupt without allocating its bitmaps', () => {
    const r = openInChild(hugeMapnrKdump(s.dir));
    expect(r.error).toBe('CorruptDumpError');
    expect(r.message).toMatch(/page bitmaps for max_mapnr 0x400000000 would take \d+ MiB, more than a 65536-byte dump can describe/);
    expect(r.maxRssMiB).toBeLessThan(baselineMiB + 64);
  });
  it('an ELF with e_phnum = PN_XNUM and 16 M program headers claimed is refused without allocating them', () => {
    const r = openInChild(hugePhnumElf(s.dir));
    expect(r.error).toBe('CorruptDumpError');
    expect(r.message).toMatch(/ELF program headers \(16777215\) would take \d+ MiB/);
    expect(r.maxRssMiB).toBeLessThan(baselineMiB + 64);
  });
});

describe('defect 9: a damaged kallsyms_num_syms does not cost a scan of the whole image', () => {
  it('the fallback search stays near the tables VMCOREINFO lists', () => {
    const elf = plainElf(s.path('softlockup.elf'));
    const bad = s.path('num-syms.elf');
    copyFileSync(elf, bad);
    const intact = openVmcore(elf, { vmlinux: false });
    const at = intact.vmcoreinfo.symbol('kallsyms_num_syms')!;
    const off = elfFileOffset(bad, intact.dump.virtToPhys(at))!;
    const n = intact.dump.u32(at);
    intact.close();
    const four = Buffer.alloc(4);
    four.writeUInt32LE(n + 4099);
    writeAt(bad, off, four);

    const vm = openVmcore(bad, { vmlinux: false });
    let bytes = 0;
    const counting: MemoryReader = {
      file: bad,
      readVirt: (a, len) => { bytes += len; return vm.dump.readVirt(a, len); },
      readPhys: (a, len) => { bytes += len; return vm.dump.readPhys(a, len); },
      readVirtMany: (addrs, sizes, allowFail) => {
        bytes += typeof sizes === 'number' ? sizes * addrs.length : sizes.reduce((x, y) => x + y, 0);
        return vm.dump.readVirtMany(addrs, sizes, allowFail);
      },
    };
    let outcome = 'ok';
    try { findKallsyms(counting, vm.vmcoreinfo); } catch (e) { outcome = (e as Error).constructor.name; }
    vm.close();
    console.log(`damaged kallsyms_num_syms: ${outcome}, ${(bytes / 2 ** 20).toFixed(1)} MiB read`);
    // before: the names read grew to n * 1030 bytes and the scan covered the image, 80+ MiB; now
    // the names stop at the token table and the scan window is 64 KiB before them, 4 MiB after
    expect(bytes).toBeLessThan(24 * 2 ** 20);
    expect(['ok', 'KallsymsNotFoundError', 'KallsymsError']).toContain(outcome);
  });
});
