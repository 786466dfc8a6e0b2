/**
 * The kallsyms cache: decoded once per kernel build, shifted to each dump's KASLR slide, and used
 * only when it passes the same proof as a fresh decode. sysrq-basic and qemu-dump are the same
 * build booted with different slides, which makes the shift testable on real dumps.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { Dump } from '../src/dump/dump.js';
import { findKallsyms } from '../src/symbols/kallsyms.js';
import { readKallsymsCache, writeKallsymsCache } from '../src/symbols/kallsyms-cache.js';
import { cachePath, writeCache } from '../src/cache/build-id-cache.js';
import { dumps, useTempCacheHome } from './fixtures.js';

const sysrq = dumps.find((d) => d.name === 'vmcore.kdump-lzo')!;
const qemu = dumps.find((d) => d.scenario === 'qemu-dump')!;
// arm64: the image is not in the top 2 GiB, and every image address moves with the slide
const arm64A = dumps.find((d) => d.scenario === 'arm64-sysrq' && d.primary)!;
const arm64B = dumps.find((d) => d.scenario === 'arm64-cgroup-mutex-hung' && d.primary)!;
useTempCacheHome('vaat-kcache-');

describe('kallsyms cache', () => {
  it.each([['x86_64', sysrq, qemu], ['arm64', arm64A, arm64B]])('%s: a table written from one dump serves another dump of the same build at its own KASLR slide', (_arch, da, db) => {
    const a = Dump.open(da.path);
    const b = Dump.open(db.path);
    try {
      expect(a.vmcoreinfo.buildId).toBe(b.vmcoreinfo.buildId);
      expect(a.vmcoreinfo.kernelOffset).not.toBe(b.vmcoreinfo.kernelOffset);
      expect(readKallsymsCache(b.vmcoreinfo)).toBeNull(); // nothing cached yet
      const fresh = findKallsyms(a, a.vmcoreinfo);
      expect(writeKallsymsCache(fresh, a.vmcoreinfo)).toMatch(new RegExp(`kallsyms-${a.vmcoreinfo.buildId}.*\\.bin$`));
      const cached = readKallsymsCache(b.vmcoreinfo)!;
      expect(cached).not.toBeNull();
      expect(cached.source).toMatch(/from cache/);
      const truthB = findKallsyms(b, b.vmcoreinfo);
      expect(cached.count).toBe(truthB.count);
      // every symbol, shifted to qemu-dump's slide, where a fresh decode of qemu-dump puts it
      const want = truthB.columns();
      const got = cached.columns();
      expect(got.names).toEqual(want.names);
      expect(Buffer.from(got.addresses.buffer).equals(Buffer.from(want.addresses.buffer))).toBe(true);
      expect(cached.symbolize(truthB.lookup('schedule')!.address + 4n)?.name).toBe('schedule');
    } finally {
      a.close();
      b.close();
    }
  });

  it('a cache that fails the proof (tampered addresses) is not used', () => {
    const a = Dump.open(sysrq.path);
    try {
      writeKallsymsCache(findKallsyms(a, a.vmcoreinfo), a.vmcoreinfo);
      const file = cachePath('kallsyms', a.vmcoreinfo.buildId!)!;
      const buf = readFileSync(file);
      // a flipped bit in the address table: the checksum refuses the file
      const bad = Buffer.from(buf);
      bad[bad.length - 1] ^= 1;
      writeFileSync(file, bad);
      expect(readKallsymsCache(a.vmcoreinfo)).toBeNull();
      // a well-formed file whose addresses are wrong for this dump (written as if at another
      // slide): it must fail the proof against VMCOREINFO, not be trusted
      const fresh = findKallsyms(a, a.vmcoreinfo);
      const shifted = { ...a.vmcoreinfo, buildId: a.vmcoreinfo.buildId, kernelOffset: a.vmcoreinfo.kernelOffset + 0x200000n } as typeof a.vmcoreinfo;
      writeKallsymsCache(fresh, shifted);
      expect(readKallsymsCache(a.vmcoreinfo)).toBeNull();
    } finally {
      a.close();
    }
  });

  it('a cached table finds every name as a fresh decode does; a damaged name order is a miss', () => {
    const a = Dump.open(sysrq.path);
    try {
      const fresh = findKallsyms(a, a.vmcoreinfo);
      writeKallsymsCache(fresh, a.vmcoreinfo);
      const cached = readKallsymsCache(a.vmcoreinfo)!;
      expect(cached).not.toBeNull();
      for (const name of new Set(fresh.columns().names)) {
        expect(cached.lookup(name)).toEqual(fresh.lookup(name));
        expect(cached.uniqueAddress(name)).toBe(fresh.uniqueAddress(name));
        expect(cached.lookupAll(name)).toEqual(fresh.lookupAll(name));
      }
      expect(cached.lookup('no_such_symbol')).toBeUndefined();
      // a payload whose checksum holds but whose name order (the last table) repeats an index
      const file = cachePath('kallsyms', a.vmcoreinfo.buildId!)!;
      const buf = readFileSync(file);
      const payload = Buffer.from(buf.subarray(96));
      payload.writeUInt32LE(payload.readUInt32LE(payload.length - 8), payload.length - 4);
      writeCache('kallsyms', a.vmcoreinfo.buildId!, buf.readUInt32LE(24), payload);
      expect(readKallsymsCache(a.vmcoreinfo)).toBeNull();
    } finally {
      a.close();
    }
  });
});
