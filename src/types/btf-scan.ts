/**
 * The kernel's BTF found in the dump by its header when kallsyms does not name __start_BTF: a
 * kernel without CONFIG_KALLSYMS_ALL (Debian's arm64 cloud kernel) lists only text symbols, but
 * its .BTF still sits in the image's read-only data, after _etext.
 */
import { readVirtHuge, type MemoryReader } from '../dump/dump.js';
import { readCache, writeCache } from '../cache/build-id-cache.js';
import { findBtfInBuffer } from './btf-format.js';

const CHUNK = 1 << 20;
/** an image's rodata is a few MiB to a few tens of MiB: past this, there is no BTF to find */
const SCAN_LIMIT = 96 << 20;
/** bytes kept from the previous chunk, so a header across a chunk boundary is still seen */
const OVERLAP = 256;
/** little-endian BTF magic 0xeb9f and version 1 (the kernel's byte order on x86_64 and arm64) */
const MAGIC = Buffer.from([0x9f, 0xeb, 0x01]);
const HEADER = 24;
/** vmlinux BTF is a few MiB; a header claiming more is random bytes */
const MAX_BTF = 64 << 20;

export interface BtfInImage {
  address: bigint;
  bytes: Buffer;
  /** bytes read while looking */
  scanned: number;
}

/** The first valid BTF blob at or after `from`, or null when none is found before an unreadable page or the limit. */
export function findBtfInImage(mem: MemoryReader, from: bigint, limit = SCAN_LIMIT): BtfInImage | null {
  let carry = Buffer.alloc(0);
  let at = from & ~0xfffn;
  for (let scanned = 0; scanned < limit; scanned += CHUNK, at += BigInt(CHUNK)) {
    let chunk: Buffer;
    try {
      chunk = mem.readVirt(at, CHUNK);
    } catch {
      return null; // the end of the image (or a page not in the dump)
    }
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const base = at - BigInt(carry.length);
    // A blob usually runs past this chunk: read each magic's header, then the whole blob it
    // describes, and let the full validation decide.
    for (let i = buf.indexOf(MAGIC); i >= 0 && i + HEADER <= buf.length; i = buf.indexOf(MAGIC, i + 1)) {
      const total = buf.readUInt32LE(i + 4) + Math.max(buf.readUInt32LE(i + 8) + buf.readUInt32LE(i + 12), buf.readUInt32LE(i + 16) + buf.readUInt32LE(i + 20));
      if (total > MAX_BTF) continue;
      const address = base + BigInt(i);
      let bytes: Buffer;
      try { bytes = readVirtHuge(mem, address, total); } catch { continue; }
      const hit = findBtfInBuffer(bytes);
      if (hit?.offset === 0 && hit.length === total) return { address, bytes, scanned: scanned + CHUNK };
    }
    carry = Buffer.from(chunk.subarray(chunk.length - OVERLAP));
  }
  return null;
}

/** where a build's .BTF lies: 16 bytes, its offset from `from` (_etext) and its length */
const LOCATION_KIND = 'btf-at';
const LOCATION_VERSION = 1;

/**
 * findBtfInImage, remembering per build-id where the blob was: a bare dump of a build seen before
 * reads it there (validated as a scan's hit is) instead of scanning the image's read-only data
 * again (arm64's Debian kernel: ~8 MiB, ~60 ms of every start). A location that no longer holds
 * a valid blob is scanned for, and the new one remembered.
 */
export function findBtfInImageCached(mem: MemoryReader, from: bigint, buildId: string | null | undefined): BtfInImage | null {
  if (buildId) {
    const hit = readCache(LOCATION_KIND, buildId, LOCATION_VERSION);
    if (hit.data?.length === 16) {
      const address = from + hit.data.readBigUInt64LE(0);
      const len = Number(hit.data.readBigUInt64LE(8));
      if (len >= HEADER && len <= MAX_BTF) {
        try {
          const bytes = readVirtHuge(mem, address, len);
          const v = findBtfInBuffer(bytes);
          if (v?.offset === 0 && v.length === len) return { address, bytes, scanned: 0 };
        } catch { /* not readable there: scan */ }
      }
    }
  }
  const found = findBtfInImage(mem, from);
  if (found && buildId) {
    const at = Buffer.alloc(16);
    at.writeBigUInt64LE(found.address - from, 0);
    at.writeBigUInt64LE(BigInt(found.bytes.length), 8);
    try { writeCache(LOCATION_KIND, buildId, LOCATION_VERSION, at); } catch { /* a cache we cannot write only costs speed */ }
  }
  return found;
}
