/**
 * Dump: the one way the rest of vaat reads a vmcore. A thin, typed wrapper over the addon's
 * DumpFile; it never knows (or cares) which native back end served a read.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { loadNative, loadNativeOrNull, type NativeAttrs, type NativeCpuRegs, type NativeDumpFile, type NativeOpenOptions, type PageCacheStats } from './native.js';
import { DumpIOError, fromNative, UnsupportedFormatError, VaatError } from './errors.js';
import { VmcoreInfo } from './vmcoreinfo.js';

export type { NativeAttrs as DumpAttrs, NativeCpuRegs as CpuRegs, PageCacheStats } from './native.js';

/**
 * The decoded-page cache of one open dump when no size is given: 16 MiB. A vaat process holds
 * one per open dump (and one per clone), so a `report -d` worker stays well inside a 2 GB laptop;
 * more helps only walks that revisit more pages than that (BENCHMARKS.md, "Big machines").
 */
export const DEFAULT_PAGE_CACHE_BYTES = 16 << 20;

/** the page-cache size asked for: the option, else $VAAT_PAGE_CACHE_MB, else the default */
export function pageCacheBytes(opt: number | undefined): number {
  if (opt !== undefined) {
    if (!Number.isFinite(opt) || opt < 0) throw new VaatError(`page cache size must be a number of bytes >= 0, not ${opt}`);
    return Math.floor(opt);
  }
  const env = process.env.VAAT_PAGE_CACHE_MB;
  if (env !== undefined && env !== '') {
    const mb = Number(env);
    if (!Number.isFinite(mb) || mb < 0) throw new VaatError(`VAAT_PAGE_CACHE_MB must be a number of MiB >= 0, not '${env}'`);
    return Math.floor(mb * 1024 * 1024);
  }
  return DEFAULT_PAGE_CACHE_BYTES;
}

export interface OpenDumpOptions extends NativeOpenOptions {
  /** read zeros for pages the dump excluded instead of raising ExcludedPageError */
  zeroExcluded?: boolean;
}

/** Reading kernel memory: what symbol, type and kernel-model code is written against. */
export interface MemoryReader {
  readonly file: string;
  readVirt(addr: bigint, len: number): Buffer;
  readPhys(addr: bigint, len: number): Buffer;
  /** several reads in one native call; a failed entry throws unless `allowFail` (then it is null) */
  readVirtMany(addrs: readonly bigint[], sizes: number | readonly number[], allowFail?: boolean): (Buffer | null)[];
  /** fill `target` from addr (readers that can: a walk reusing one buffer allocates nothing per object) */
  readVirtInto?(addr: bigint, target: Buffer): void;
}

/** `target.length` bytes at addr into target, through readVirtInto where the reader has it */
export function readVirtInto(mem: MemoryReader, addr: bigint, target: Buffer): void {
  if (mem.readVirtInto) mem.readVirtInto(addr, target);
  else mem.readVirt(addr, target.length).copy(target);
}

/** a little-endian host: a buffer's words can be read through typed-array views (dumps are little-endian) */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** a typed-array kind: its element size, and a view of `count` elements over memory */
interface TypedKind<T> { readonly BYTES_PER_ELEMENT: number; new(buffer: ArrayBufferLike, byteOffset: number, count: number): T }

/**
 * `count` elements of `Kind` over `buf`'s own memory from byte `at`, read in the host's byte
 * order: a view instead of a copy or a read per word. Null where the memory is not aligned for
 * them, or the host is big-endian (dumps and vaat's cache files hold little-endian words).
 */
export function wordsView<T>(Kind: TypedKind<T>, buf: Uint8Array, at: number, count: number): T | null {
  const size = Kind.BYTES_PER_ELEMENT;
  if (!HOST_LE || (buf.byteOffset + at) % size !== 0 || at + count * size > buf.length) return null;
  return new Kind(buf.buffer, buf.byteOffset + at, count);
}

/**
 * A buffer of `bytes` for one large read (readVirtInto), in huge-page memory where the addon has
 * it: under a hypervisor each 4 KiB page of a fresh buffer costs a 13-19 us fault on first touch.
 */
export function hugeBuffer(bytes: number): Buffer {
  const native = bytes >= 1 << 20 ? loadNativeOrNull() : null;
  return native?.allocHuge ? native.allocHuge(bytes) : Buffer.allocUnsafe(bytes);
}

/** `len` bytes at `addr` in a hugeBuffer: one large read (the ORC tables, BTF) without a fault per 4 KiB */
export function readVirtHuge(mem: MemoryReader, addr: bigint, len: number): Buffer {
  const b = hugeBuffer(len);
  readVirtInto(mem, addr, b);
  return b;
}

/** A dump file opened read-only by the native reader: its attributes, VMCOREINFO, CPU registers and memory reads (virtual through the dump's page tables, or physical). */
export class Dump implements MemoryReader {
  readonly attrs: NativeAttrs;
  readonly vmcoreinfo: VmcoreInfo;
  readonly zeroExcluded: boolean;
  readonly pageCacheBytes: number;
  #native: NativeDumpFile;

  private constructor(readonly file: string, native: NativeDumpFile, opts: OpenDumpOptions) {
    this.#native = native;
    this.zeroExcluded = !!opts.zeroExcluded;
    this.pageCacheBytes = pageCacheBytes(opts.pageCacheBytes);
    this.attrs = this.#wrap(() => native.attrs());
    this.vmcoreinfo = new VmcoreInfo(this.attrs.vmcoreinfo);
  }

  /** Open a dump read-only; throws a typed VaatError naming the file on any fault. */
  static open(file: string, opts: OpenDumpOptions = {}): Dump {
    preflight(file);
    const { DumpFile } = loadNative();
    if (opts.backend === 'libkdumpfile') refuseKnownLibkdumpfileBugs(file);
    const cache = pageCacheBytes(opts.pageCacheBytes);
    let native: NativeDumpFile;
    try {
      native = new DumpFile(file, { backend: opts.backend ?? 'auto', pageCacheBytes: cache });
    } catch (err) {
      throw fromNative(err, file);
    }
    return new Dump(file, native, { ...opts, pageCacheBytes: cache });
  }

  #wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw fromNative(err, this.file);
    }
  }

  #cpuRegs: NativeCpuRegs[] | null = null;
  /** each CPU's PRSTATUS registers (read once: unwinding asks for every task) */
  cpuRegs(): NativeCpuRegs[] { return (this.#cpuRegs ??= this.#wrap(() => this.#native.cpuRegs())); }
  // Buffers come from Node's pool (allocUnsafe) and are filled natively: for the many small reads
  // of a task walk that is several times cheaper than a buffer allocated by the addon.
  readPhys(addr: bigint, len: number): Buffer {
    const b = Buffer.allocUnsafe(len);
    this.#wrap(() => this.#native.readPhysInto(addr, b, this.zeroExcluded));
    return b;
  }
  readVirt(addr: bigint, len: number): Buffer {
    const b = Buffer.allocUnsafe(len);
    this.readVirtInto(addr, b);
    return b;
  }
  readVirtInto(addr: bigint, target: Buffer): void {
    // no #wrap closure: task walks and pointer reads call this tens of thousands of times
    try { this.#native.readVirtInto(addr, target, this.zeroExcluded); } catch (err) { throw fromNative(err, this.file); }
  }
  virtToPhys(addr: bigint): bigint { return this.#wrap(() => this.#native.virtToPhys(addr)); }

  readVirtMany(addrs: readonly bigint[], sizes: number | readonly number[], allowFail = false): (Buffer | null)[] {
    const n = addrs.length;
    const a = BigUint64Array.from(addrs);
    const s = typeof sizes === 'number' ? new Uint32Array(n).fill(sizes) : Uint32Array.from(sizes);
    const { data, status } = this.#wrap(() => this.#native.readBatch('virt', a, s));
    const out: (Buffer | null)[] = new Array(n);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const len = s[i];
      if (status[i] !== 0) {
        if (!allowFail) {
          // Re-read the one failed entry alone so the error is the precise typed one.
          this.readVirt(addrs[i], len);
          throw new VaatError(`batched read failed at 0x${addrs[i].toString(16)}`, this.file);
        }
        out[i] = null;
      } else {
        out[i] = data.subarray(off, off + len);
      }
      off += len;
    }
    return out;
  }

  // Typed scalar reads (little-endian: the only byte order of the architectures we read).
  u8(addr: bigint): number { return this.readVirt(addr, 1).readUInt8(0); }
  u16(addr: bigint): number { return this.readVirt(addr, 2).readUInt16LE(0); }
  u32(addr: bigint): number { return this.readVirt(addr, 4).readUInt32LE(0); }
  s32(addr: bigint): number { return this.readVirt(addr, 4).readInt32LE(0); }
  u64(addr: bigint): bigint { return this.readVirt(addr, 8).readBigUInt64LE(0); }
  s64(addr: bigint): bigint { return this.readVirt(addr, 8).readBigInt64LE(0); }
  pointer(addr: bigint): bigint { return this.u64(addr); }
  /** a NUL-terminated C string, at most `limit` bytes */
  cString(addr: bigint, limit = 4096): string { return readCString(this, addr, limit); }

  /** an independent reader on the same file, for another thread */
  clone(): Dump {
    const n = this.#wrap(() => this.#native.clone());
    return new Dump(this.file, n, { zeroExcluded: this.zeroExcluded, pageCacheBytes: this.pageCacheBytes });
  }
  close(): void { this.#native.close(); }
  /** how full the decoded-page cache is (it never holds more than its size allows) */
  cacheStats(): PageCacheStats { return this.#wrap(() => this.#native.cacheStats()); }
}

/**
 * libkdumpfile up to 0.5.1 dies with SIGSEGV inside kdump_read() on virtual reads of ELF dumps
 * (makedumpfile -E, /proc/vmcore copies): a crash no caller can catch. Such inputs are refused
 * before libkdumpfile sees them; vaat's own reader reads them.
 */
function refuseKnownLibkdumpfileBugs(file: string): void {
  const native = loadNative();
  // an addon built without libkdumpfile (null) has no libkdumpfile to protect; its open refuses the reader itself
  if (native.versions.libkdumpfile === null) return;
  const version = native.versions.libkdumpfile.split('.').map(Number);
  const upTo051 = version[0] === 0 && (version[1] < 5 || (version[1] === 5 && (version[2] ?? 0) <= 1));
  let format: string | null;
  try { format = native.detectFormat(file); } catch (err) { throw fromNative(err, file); }
  if (upTo051 && format === 'elf') {
    throw new UnsupportedFormatError(
      `--reader libkdumpfile refused: libkdumpfile ${native.versions.libkdumpfile} crashes (SIGSEGV in kdump_read) reading ELF dumps; use --reader vaat (the default)`,
      file,
    );
  }
}

/** Check the path before handing it to native code, so OS-level faults get one clear message. */
export function preflight(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot stat (${code})`;
    throw new DumpIOError(why, file, code);
  }
  if (st.isDirectory()) throw new DumpIOError('is a directory, not a dump file', file, 'EISDIR');
  if (!st.isFile() && !st.isBlockDevice()) throw new DumpIOError('not a regular file', file);
  try { accessSync(file, constants.R_OK); } catch { throw new DumpIOError('permission denied', file, 'EACCES'); }
}

/** a NUL-terminated string, read page by page so it never touches pages past its end */
export function readCString(mem: Pick<MemoryReader, 'readVirt'>, addr: bigint, limit = 4096): string {
  const chunks: Buffer[] = [];
  let total = 0;
  let p = addr;
  while (total < limit) {
    const toPage = Number(4096n - (p & 4095n));
    const buf = mem.readVirt(p, Math.min(toPage, limit - total));
    const nul = buf.indexOf(0);
    if (nul >= 0) { chunks.push(buf.subarray(0, nul)); break; }
    chunks.push(buf);
    total += buf.length;
    p += BigInt(buf.length);
  }
  return Buffer.concat(chunks).toString('utf8');
}
