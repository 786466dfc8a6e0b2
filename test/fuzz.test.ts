/**
 * The short fixed-seed fuzz run (fuzz/): 2,000 damaged inputs made from the fixtures — headers,
 * bitmaps, page descriptors, compressed pages, ELF notes, VMCOREINFO, container blocks,
 * truncations at structure boundaries, crafted huge headers, BTF, and kernel memory the analyses
 * read — through the library and the native addon. No crash, no hang, no untyped error, peak RSS
 * within 2x the intact analyses' plus a fixed bound. scripts/test.sh runs it in one pass only.
 * The long run is `npm run fuzz -- --minutes N` (figures in BENCHMARKS.md).
 */
import { describe, expect, it } from 'vitest';
import { formatSummary, runFuzz } from '../dist/fuzz/fuzz.js';
import { projectRoot } from './fixtures.js';

describe('fuzz, fixed seed', () => {
  it('2,000 inputs: no crash, no hang, no untyped error, memory within bound', async () => {
    const s = await runFuzz({ seed: 16, inputs: 2000, jobs: 2, root: projectRoot, timeoutMs: 120_000 });
    console.log(formatSummary(s));
    expect(s.inputs).toBe(2000);
    // every kind of damage was made, and some inputs still opened and analysed cleanly
    expect(Object.keys(s.byKind).sort()).toEqual(['btf', 'file', 'memory']);
    expect(s.ok).toBeGreaterThan(100);
    expect(Object.keys(s.typed).length).toBeGreaterThan(3);
    expect(s.crashes, formatSummary(s)).toEqual([]);
    expect(s.hangs, formatSummary(s)).toEqual([]);
    expect(s.untyped, formatSummary(s)).toEqual([]);
    expect(s.memory, formatSummary(s)).toEqual([]);
  }, 40 * 60_000);
});
