/**
 * Inputs the fuzzer found, kept as regression tests. Each is regenerated from the fixtures by the
 * fuzzer's own generator (fuzz/mutate.ts) from its (seed, index): nothing damaged is committed.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { kernelDir, projectRoot } from './fixtures.js';
import { mutation, type Mutation } from '../fuzz/mutate.js';
import { seedSet } from '../fuzz/seeds-setup.js';
import type { SeedDump } from '../fuzz/seeds.js';
import { runFuzz, formatSummary } from '../dist/fuzz/fuzz.js';
import { parseBtf } from '../src/types/btf.js';
import { openVmcore } from '../src/vmcore.js';
import { readKernelLog } from '../src/kernel/printk/index.js';
import { Dump } from '../src/dump/dump.js';
import { Vmcore } from '../src/vmcore.js';
import { listNodes } from '../src/object/helpers.js';
import { taskGroupTree } from '../src/kernel/sched/group.js';
import { fixturePath, withWord } from './hostile/inputs.js';
import { VaatError } from '../src/errors/index.js';

const btf = readFileSync(join(kernelDir, 'vmlinux.btf'));

/** a BTF input of a fuzz run, regenerated (BTF inputs need no seed dump nor trace) */
function btfInput(seed: number, index: number): Buffer {
  const m = mutation({ seeds: [], btfSize: btf.length, traces: new Map([['-', [{ addr: 0n, value: 0n }]]]) }, seed, index, () => Buffer.alloc(0));
  expect(m.kind).toBe('btf');
  if (m.kind !== 'btf') throw new Error('not a BTF input');
  const b = Buffer.from(m.truncate !== undefined ? btf.subarray(0, m.truncate) : btf);
  for (const p of m.patches) p.bytes.copy(b, p.offset);
  return b;
}

const work = mkdtempSync(join(tmpdir(), 'vaat-fuzz-regr-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let seeds: SeedDump[] | undefined;

/** a file input of a fuzz run, regenerated and written as a damaged copy of its seed (in a temporary directory) */
function fileInput(seed: number, index: number): { m: Extract<Mutation, { kind: 'file' }>; path: string } {
  seeds ??= seedSet(projectRoot, work);
  const text = (s: SeedDump): Buffer => {
    const r = s.regions.find((x) => x.name === 'vmcoreinfo');
    return r ? readFileSync(s.path).subarray(r.start, r.end) : Buffer.alloc(0);
  };
  // a non-empty trace map, as in a run (memory inputs are drawn only when there is one)
  const m = mutation({ seeds, btfSize: btf.length, traces: new Map([['-', [{ addr: 0n, value: 0n }]]]) }, seed, index, text);
  if (m.kind !== 'file') throw new Error(`input ${index} of seed ${seed} is a ${m.kind} input`);
  const b = readFileSync(seeds.find((x) => x.name === m.seed)!.path);
  for (const p of m.patches) p.bytes.copy(b, p.offset);
  const path = join(work, `${seed}-${index}`);
  writeFileSync(path, m.truncate !== undefined ? b.subarray(0, m.truncate) : b);
  return { m, path };
}

/** what a call throws (a VaatError is expected), or null */
function thrown(fn: () => unknown): VaatError | null {
  try { fn(); } catch (e) { expect(e).toBeInstanceOf(VaatError); return e as VaatError; }
  return null;
}

describe('fuzz findings', () => {
  it('seed 20261207 #6764 (hang): a bit-flipped list pointer looping back into the middle of a list (never to its head) was walked 1,000,000 times', async () => {
    // the same shape, made by hand: the second node of init_task.tasks points back to the first
    const d = Dump.open(fixturePath('sysrq-basic/vmcore.kdump-lzo'));
    try {
      const plain = new Vmcore(d, { vmlinux: false });
      const head = plain.object('init_task').member('tasks');
      const first = head.member('next').pointer();
      const second = d.pointer(first);
      const vm = withWord(d, second, first);
      let n = 0;
      let err: unknown;
      try { for (const _ of listNodes(vm.object('init_task').member('tasks'))) n++; } catch (e) { err = e; }
      expect((err as Error)?.name).toBe('ObjectError');
      expect((err as Error).message).toMatch(/^list at 0x[0-9a-f]+ loops back to 0x[0-9a-f]+ without reaching its head \(corrupt\)$/);
      expect(n).toBeLessThan(10); // found within a few steps of entering the loop, not after 1,000,000
      // the fuzzer's case, runq -g's task-group tree, made by hand: root_task_group's children list
      // leading back into the root itself; the walk stops at the group reached twice
      const root = plain.object('root_task_group', 'struct task_group');
      const looped = withWord(d, root.member('children.next').address, root.member('siblings').address);
      expect(() => taskGroupTree(looped, 0, { all: true })).toThrow(/task_group 0x[0-9a-f]+ is reached twice in the hierarchy \(corrupt\)/);
    } finally { d.close(); }
    // the fuzzer's own input, regenerated: within its limit and never untyped. (A memory input is
    // drawn from the reads the intact analyses make, so after a change to what they read the same
    // index may damage another word: its outcome is not pinned here, the hand-made cases above are.)
    const s = await runFuzz({ seed: 20261207, only: [6764], jobs: 1, root: projectRoot, timeoutMs: 120_000 });
    expect(s.hangs, formatSummary(s)).toEqual([]);
    expect(s.untyped, formatSummary(s)).toEqual([]);
    expect(s.crashes, formatSummary(s)).toEqual([]);
    expect(s.byKind).toEqual({ memory: 1 });
  }, 300_000);

  it('seed 20261207 #2808 (untyped): VMCOREINFO\'s SIZE(printk_info) damaged to 0 made the log reader read past a buffer (RangeError)', async () => {
    const { m, path } = fileInput(20261207, 2808);
    expect([m.seed, m.what]).toEqual(['kdump-zstd', 'VMCOREINFO']);
    const vm = openVmcore(path, { vmlinux: false });
    try {
      const e = thrown(() => readKernelLog(vm.dump, vm.vmcoreinfo));
      expect(e?.name).toBe('PrintkError');
      expect(e?.message).toBe("VMCOREINFO's printk layout is inconsistent: SIZE(printk_info) = 0");
    } finally { vm.close(); }
    const s = await runFuzz({ seed: 20261207, only: [2808], jobs: 1, root: projectRoot, timeoutMs: 120_000 });
    expect(s.untyped, formatSummary(s)).toEqual([]);
    expect(s.crashes, formatSummary(s)).toEqual([]);
    expect(s.typed).toEqual({ PrintkError: 1 });
  }, 300_000);

  it('seed 20261206 #217 (hang): an lzop block claiming 55 MB was allocated, zero-filled and decompressed again on every read that touched it', async () => {
    const { m, path } = fileInput(20261206, 217);
    expect(m.seed).toBe('lzop-elf');
    expect(m.what).toBe('field block15.dst_len');
    expect(m.patches[0].bytes.readUInt32BE(0)).toBe(0x034bdce8);
    // LZO1X cannot expand a block of this compressed size that far: refused at open, naming the block and its sizes
    const refused = thrown(() => openVmcore(path, { vmlinux: false }));
    expect(refused?.name).toBe('CorruptDumpError');
    expect(refused?.message).toMatch(/lzop block at 0x[0-9a-f]+ has sizes 55303400\/\d+/);

    // A claim LZO1X could reach (30 MB for this block) passes the index, so it is found at
    // decompression, said in terms of the header's claim, and remembered: the block is not
    // decoded again on every read (each retry of a 30 MB claim was what ran past the limit).
    const lied = join(work, 'lied.lzo');
    copyFileSync(path, lied);
    const b = readFileSync(lied);
    b.writeUInt32BE(30_000_000, m.patches[0].offset);
    writeFileSync(lied, b);
    const vm = await openVmcore(lied, { vmlinux: false });
    try {
      const at = vm.vmcoreinfo.symbol('init_uts_ns')!;
      const first = thrown(() => vm.dump.readVirt(at, 390));
      expect(first?.name).toBe('CorruptDumpError');
      expect(first?.message).toMatch(/lzop block at 0x[0-9a-f]+ decompresses to \d+ bytes, not the 30000000 its header claims/);
      expect(first?.message).toContain(lied);
      // every later read of the block fails the same way
      for (let i = 0; i < 50; i++) expect(thrown(() => vm.dump.readVirt(at, 390))?.message).toBe(first?.message);
    } finally { vm.close(); }

    // and the fuzzer's own replay of the input finishes within its per-input limit
    const s = await runFuzz({ seed: 20261206, only: [217], jobs: 1, root: projectRoot, timeoutMs: 120_000 });
    expect(s.hangs, formatSummary(s)).toEqual([]);
    expect(s.crashes, formatSummary(s)).toEqual([]);
    expect(s.untyped, formatSummary(s)).toEqual([]);
    expect(s.typed).toEqual({ CorruptDumpError: 1 });
  }, 300_000);

  it('seed 20261205 #1117 (hang): one BTF name offset of 0xffffffff made every lookup rebuild the name index and fail again', async () => {
    const t = parseBtf(btfInput(20261205, 1117), { label: 'fuzzed' });
    const first = (() => { try { t.findType('struct task_struct'); } catch (e) { return e; } return null; })();
    expect(first).toBeInstanceOf(Error);
    expect((first as Error).name).toBe('BtfError');
    // the failure is remembered: later lookups fail the same way at once instead of scanning ~100k types again
    for (const name of ['struct list_head', 'struct rq', 'struct page']) expect(() => t.findType(name)).toThrow(first as Error);
    let again: unknown;
    try { t.findType('struct mutex'); } catch (e) { again = e; }
    expect(again).toBe(first);
    // and the fuzzer's own replay of the input finishes within its per-input limit
    const s = await runFuzz({ seed: 20261205, only: [1117], jobs: 1, root: projectRoot, timeoutMs: 120_000 });
    expect(s.hangs, formatSummary(s)).toEqual([]);
    expect(s.untyped, formatSummary(s)).toEqual([]);
    expect(s.byKind).toEqual({ btf: 1 });
  }, 300_000);
});
