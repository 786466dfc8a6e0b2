/**
 * Inputs the fuzzer found, kept as regression tests. Each is regenerated from the fixtures by the
 * fuzzer's own generator (fuzz/mutate.ts) from its (seed, index): nothing damaged is committed.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelDir, projectRoot } from './fixtures.js';
import { mutation } from '../fuzz/mutate.js';
import { runFuzz, formatSummary } from '../dist/fuzz/fuzz.js';
import { parseBtf } from '../src/types/btf.js';

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

describe('fuzz findings', () => {
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
