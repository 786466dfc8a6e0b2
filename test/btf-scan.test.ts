/**
 * .BTF found in a bare dump's image by its header (arm64's Debian kernel names no __start_BTF),
 * and where it was remembered per build-id: a second open reads it there without scanning, and a
 * remembered place that holds no valid blob is scanned for again.
 */
import { describe, expect, it } from 'vitest';
import { Dump } from '../src/dump/dump.js';
import { findKallsyms } from '../src/symbols/kallsyms.js';
import { findBtfInImage, findBtfInImageCached } from '../src/types/btf-scan.js';
import { writeCache } from '../src/cache/build-id-cache.js';
import { dumps, useTempCacheHome } from './fixtures.js';

const arm64 = dumps.find((d) => d.scenario === 'arm64-sysrq' && d.primary)!;
useTempCacheHome('vaat-btfat-');

describe('BTF found in the image, its place remembered per build', () => {
  it('scans once, then reads the remembered place; a wrong place is scanned for again', () => {
    const d = Dump.open(arm64.path);
    try {
      const k = findKallsyms(d, d.vmcoreinfo);
      expect(k.lookup('__start_BTF')).toBeUndefined(); // why the scan exists
      const from = k.lookup('_etext')!.address;
      const buildId = d.vmcoreinfo.buildId!;
      const scanned = findBtfInImage(d, from)!;
      expect(scanned.scanned).toBeGreaterThan(0);
      const first = findBtfInImageCached(d, from, buildId)!; // nothing remembered: scans, remembers
      expect(first.scanned).toBeGreaterThan(0);
      expect(first.address).toBe(scanned.address);
      const second = findBtfInImageCached(d, from, buildId)!;
      expect(second.scanned).toBe(0);
      expect(second.address).toBe(scanned.address);
      expect(Buffer.compare(second.bytes, scanned.bytes)).toBe(0);
      // a remembered place 8 bytes off holds no valid blob: scanned for, and the right one remembered
      const wrong = Buffer.alloc(16);
      wrong.writeBigUInt64LE(scanned.address - from + 8n, 0);
      wrong.writeBigUInt64LE(BigInt(scanned.bytes.length), 8);
      writeCache('btf-at', buildId, 1, wrong);
      const again = findBtfInImageCached(d, from, buildId)!;
      expect(again.scanned).toBeGreaterThan(0);
      expect(again.address).toBe(scanned.address);
      expect(findBtfInImageCached(d, from, buildId)!.scanned).toBe(0);
    } finally {
      d.close();
    }
  });
});
