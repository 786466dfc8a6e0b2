/**
 * Kernel memory with patches: a Dump whose virtual reads see some words replaced, so analyses run
 * over hostile task lists, rb-trees and list_heads without writing a dump file. Also records the
 * words the analyses read on the intact dump, which is where the fuzzer aims.
 */
import { readCString, readVirtInto, type Dump } from '../src/dump/dump.js';
import type { MemPatch } from './mutate.js';

export interface ReadWord { addr: bigint; value: bigint }

export class OverlayDump {
  readonly file: string;
  readonly attrs: Dump['attrs'];
  readonly vmcoreinfo: Dump['vmcoreinfo'];
  readonly zeroExcluded: boolean;
  /** words read, when tracing (address → value), at most `traceLimit` */
  readonly trace = new Map<bigint, bigint>();

  /** byte ranges read while `recording` ([start, end) pairs, unmerged) */
  readonly ranges: [bigint, bigint][] = [];
  recording = false;

  constructor(readonly base: Dump, readonly patches: readonly MemPatch[] = [], public traceLimit = 0) {
    this.file = base.file;
    this.attrs = base.attrs;
    this.vmcoreinfo = base.vmcoreinfo;
    this.zeroExcluded = base.zeroExcluded;
  }

  #apply(addr: bigint, buf: Buffer): Buffer {
    const end = addr + BigInt(buf.length);
    if (this.recording) this.ranges.push([addr, end]);
    for (const p of this.patches) {
      const pEnd = p.addr + BigInt(p.bytes.length);
      if (p.addr >= end || pEnd <= addr) continue;
      for (let i = 0; i < p.bytes.length; i++) {
        const at = p.addr + BigInt(i);
        if (at >= addr && at < end) buf[Number(at - addr)] = p.bytes[i];
      }
    }
    if (this.traceLimit && this.trace.size < this.traceLimit) {
      for (let o = Number((8n - (addr & 7n)) & 7n); o + 8 <= buf.length && this.trace.size < this.traceLimit; o += 8) {
        this.trace.set(addr + BigInt(o), buf.readBigUInt64LE(o));
      }
    }
    return buf;
  }

  readVirt(addr: bigint, len: number): Buffer { return this.#apply(addr, Buffer.from(this.base.readVirt(addr, len))); }
  readVirtInto(addr: bigint, target: Buffer): void { readVirtInto(this.base, addr, target); this.#apply(addr, target); }
  readPhys(addr: bigint, len: number): Buffer { return this.base.readPhys(addr, len); }
  readVirtMany(addrs: readonly bigint[], sizes: number | readonly number[], allowFail = false): (Buffer | null)[] {
    return this.base.readVirtMany(addrs, sizes, allowFail).map((b, i) => (b ? this.#apply(addrs[i], Buffer.from(b)) : null));
  }
  u8(a: bigint): number { return this.readVirt(a, 1).readUInt8(0); }
  u16(a: bigint): number { return this.readVirt(a, 2).readUInt16LE(0); }
  u32(a: bigint): number { return this.readVirt(a, 4).readUInt32LE(0); }
  s32(a: bigint): number { return this.readVirt(a, 4).readInt32LE(0); }
  u64(a: bigint): bigint { return this.readVirt(a, 8).readBigUInt64LE(0); }
  s64(a: bigint): bigint { return this.readVirt(a, 8).readBigInt64LE(0); }
  pointer(a: bigint): bigint { return this.u64(a); }
  cString(a: bigint, limit = 4096): string { return readCString(this, a, limit); }
  cpuRegs(): ReturnType<Dump['cpuRegs']> { return this.base.cpuRegs(); }
  virtToPhys(a: bigint): bigint { return this.base.virtToPhys(a); }
  clone(): Dump { return new OverlayDump(this.base.clone(), this.patches) as unknown as Dump; }
  close(): void { /* the base dump is the caller's */ }

  /** the ranges recorded, sorted and merged */
  merged(): Ranges { return new Ranges(this.ranges); }

  /** as the Dump type the kernel model takes */
  asDump(): Dump { return this as unknown as Dump; }
}

/** sorted, merged byte ranges of kernel memory, asked whether a patch lands in them */
export class Ranges {
  readonly starts: bigint[] = [];
  readonly ends: bigint[] = [];
  constructor(list: readonly (readonly [bigint, bigint])[]) {
    for (const [a, b] of [...list].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) {
      const n = this.ends.length;
      if (n && a <= this.ends[n - 1]) { if (b > this.ends[n - 1]) this.ends[n - 1] = b; } else { this.starts.push(a); this.ends.push(b); }
    }
  }
  /** does [addr, addr + len) overlap a range? */
  touches(addr: bigint, len: number): boolean {
    const end = addr + BigInt(len);
    let lo = 0, hi = this.starts.length; // first range ending after addr
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.ends[mid] <= addr) lo = mid + 1; else hi = mid; }
    return lo < this.starts.length && this.starts[lo] < end;
  }
}
