/**
 * Damaged dumps never crash the process. Deterministic mutations (a fixed seed) of the parts of a
 * dump native code parses — kdump header, sub-header, bitmaps, page descriptors, page data, lzop
 * block headers, flattened records — each opened and read in a child process, so a native crash
 * shows as a signal instead of taking the test runner down. Every outcome must be a clean read
 * or one of the typed errors.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devKernel, dumps, projectRoot } from './fixtures.js';
import { runProcess } from './cli.js';

/** small deterministic PRNG (mulberry32) so failures reproduce */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The child opens the file, reads info, a spread of physical pages, and the kernel log's
// neighbourhood by virtual address; it prints the outcome codes as JSON.
const CHILD = `
const { loadNative } = await import(${JSON.stringify(join(projectRoot, 'dist/src/dump/native.js'))});
const { DumpFile } = loadNative();
const out = { open: 'ok', reads: {} };
try {
  const d = new DumpFile(process.argv[2]);
  const a = d.attrs();
  const n = Math.min(a.maxPfn, 200000);
  const addrs = BigUint64Array.from({ length: 512 }, (_, i) => BigInt(Math.floor((i * n) / 512)) * 4096n);
  const { status } = d.readBatch('phys', addrs, new Uint32Array(512).fill(4096));
  for (const s of status) out.reads[s] = (out.reads[s] ?? 0) + 1;
  for (const sym of ['SYMBOL(init_uts_ns)', 'SYMBOL(prb)']) {
    const m = new RegExp(sym.replace(/[()]/g, '\\\\$&') + '=([0-9a-f]+)').exec(a.vmcoreinfo);
    if (!m) continue;
    try { d.readVirt(BigInt('0x' + m[1]), 4096); out.reads.virt = 'ok'; } catch (e) { out.reads.virt = e.code ?? 'untyped'; }
  }
} catch (e) { out.open = e.code ?? ('untyped: ' + e.message); }
console.log(JSON.stringify(out));
`;

const TYPED = new Set(['ok', 'NOT_A_DUMP', 'UNSUPPORTED', 'TRUNCATED', 'CORRUPT', 'EXCLUDED_PAGE', 'NOT_MAPPED', 'IO']);

describe('mutated dumps never crash native code', () => {
  const cases: { name: string; regions: (size: number) => [number, number][] }[] = [
    // kdump: header, sub-header and bitmaps (first 11 blocks), descriptors, page data
    { name: 'vmcore.kdump-zlib', regions: (size) => [[0, 4096], [4096, 12 * 4096], [45056, 45056 + 400_000], [1_000_000, size]] },
    // flattened: its 4 KiB header, record headers and the kdump inside
    { name: 'vmcore.flat-lzo', regions: (size) => [[0, 4096], [4096, 200_000], [200_000, size]] },
    // lzop: file header, block headers, compressed data
    { name: 'vmcore.elf-d31.lzo', regions: (size) => [[0, 64], [64, 2_000_000], [2_000_000, size]] },
  ];
  for (const c of cases) {
    it(`${c.name}: 24 seeded mutations`, async () => {
      const src = dumps.find((d) => d.kernel === devKernel && d.name === c.name)!.path;
      const tmp = mkdtempSync(join(tmpdir(), 'vaat-fuzz-'));
      const script = join(tmp, 'child.mjs');
      writeFileSync(script, CHILD);
      const size = statSync(src).size;
      const random = rng(0x5eed ^ size);
      const outcomes: string[] = [];
      try {
        for (let i = 0; i < 24; i++) {
          const f = join(tmp, `m${i}`);
          copyFileSync(src, f);
          const regions = c.regions(size);
          const [lo, hi] = regions[i % regions.length];
          const fd = openSync(f, 'r+');
          try {
            // a few bytes flipped, or a short run overwritten with 0x00 / 0xff / random
            const at = lo + Math.floor(random() * Math.max(1, Math.min(hi, size) - lo - 16));
            const len = 1 + Math.floor(random() * 12);
            const mode = Math.floor(random() * 3);
            const bytes = Buffer.alloc(len, mode === 0 ? 0 : 0xff);
            if (mode === 2) for (let k = 0; k < len; k++) bytes[k] = Math.floor(random() * 256);
            writeSync(fd, bytes, 0, len, at);
          } finally { closeSync(fd); }
          // spawned, not spawnSync: 24 children in a row must not block the worker's event loop
          const r = await runProcess(process.execPath, [script, f], { env: process.env, timeout: 60_000 });
          expect(r.signal, `mutation ${i} of ${c.name} killed the process: ${r.stderr}`).toBeNull();
          expect(r.status, r.stderr).toBe(0);
          const o = JSON.parse(r.stdout) as { open: string; reads: Record<string, unknown> };
          expect(TYPED.has(o.open), `untyped failure: ${o.open}`).toBe(true);
          if (typeof o.reads.virt === 'string') expect(TYPED.has(o.reads.virt), `untyped read failure: ${o.reads.virt}`).toBe(true);
          outcomes.push(o.open);
          rmSync(f);
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      // the mutations reach past the header: some still open (damage in page data or descriptors)
      expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(0);
      console.log(`${c.name}: ${JSON.stringify(Object.fromEntries([...new Set(outcomes)].map((o) => [o, outcomes.filter((x) => x === o).length])))}`);
    });
  }
});
