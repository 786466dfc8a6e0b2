/**
 * The contract between the C++ addon (native/) and the TypeScript library.
 * Only src/dump/ imports this file; everything above it uses src/dump/dump.ts.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';

/** Error codes the addon sets on the `code` property of every Error it throws. */
export type NativeErrorCode =
  | 'NOT_A_DUMP'      // content is not any dump format we know
  | 'UNSUPPORTED'     // a dump, but a format variant / codec / arch we cannot read
  | 'TRUNCATED'       // file ends before data its headers promise
  | 'CORRUPT'         // header / descriptor / block fails a sanity check
  | 'EXCLUDED_PAGE'   // page was filtered out by makedumpfile (dump level); err.address = page address
  | 'NOT_MAPPED'      // address not present in the dump / no translation; err.address set
  | 'IO';             // read(2)/open(2) failure; err.errno set (a number; errors.ts names it)

/** Static facts about an opened dump, read once at open. */
export interface NativeAttrs {
  backend: 'libkdumpfile' | 'vaat';
  /** 'kdump-compressed' | 'elf' | 'flattened+kdump-compressed' | 'lzop+elf' | 'lzop+kdump-compressed' | 'qemu-kdump' ... */
  format: string;
  /** container wrapping the dump, if any: 'flattened' | 'lzop' | null */
  container: string | null;
  /** page codec seen in page descriptors: 'lzo' | 'zlib' | 'snappy' | 'zstd' | 'none' | 'mixed' */
  codec: string;
  /** makedumpfile dump level (-d), null when the format does not record one (ELF) */
  dumpLevel: number | null;
  /** the kernel's page size (VMCOREINFO PAGESIZE; the block size when the dump has no VMCOREINFO) */
  pageSize: number;
  /** the file's unit of physical memory: one page for makedumpfile, 64 KiB for QEMU's arm64 dumps */
  blockSize: number;
  arch: string;            // 'x86_64' | 'aarch64' ('' when unknown)
  byteOrder: 'little' | 'big';
  nrCpus: number;
  /** highest pfn + 1 covered by the dump (in kernel pages) */
  maxPfn: number;
  /** kernel pages present in the file / excluded by the dump's bitmaps (null if unknown) */
  pagesPresent: number | null;
  pagesExcluded: number | null;
  /** bytes of physical memory covered (maxPfn * pageSize for kdump; sum of PT_LOAD for ELF) */
  memorySize: number;
  fileSize: number;
  /** the whole VMCOREINFO note as text ('' if none) */
  vmcoreinfo: string;
  /** utsname from the kdump header when present */
  uts: { sysname: string; nodename: string; release: string; version: string; machine: string } | null;
  /** true when the file is shorter than its headers say (e.g. vmcore-incomplete) */
  truncated: boolean;
  /** human-readable problems found while opening that did not prevent it (truncation, etc.) */
  warnings: string[];
}

/** One CPU's saved state from an NT_PRSTATUS note (the architecture's register names). */
export interface NativeCpuRegs {
  cpu: number;
  pid: number;
  /** x86_64: rip, rsp, rbp, rax ... r15, cs, ss, eflags, fs_base, gs_base, orig_rax; aarch64: x0..x30, sp, pc, pstate */
  regs: Record<string, bigint>;
}

export interface NativeDumpFile {
  attrs(): NativeAttrs;
  cpuRegs(): NativeCpuRegs[];
  /** read len bytes at a physical address; zeroExcluded reads zeros for excluded pages instead of throwing */
  readPhys(addr: bigint, len: number, zeroExcluded?: boolean): Buffer;
  /** read len bytes at a kernel virtual address (translated through the dump's page tables) */
  readVirt(addr: bigint, len: number, zeroExcluded?: boolean): Buffer;
  /** like readPhys/readVirt, into the caller's buffer (its whole length): no allocation on the native side */
  readPhysInto(addr: bigint, target: Uint8Array, zeroExcluded?: boolean): void;
  readVirtInto(addr: bigint, target: Uint8Array, zeroExcluded?: boolean): void;
  /** translate a kernel virtual address to physical; throws NOT_MAPPED */
  virtToPhys(addr: bigint): bigint;
  /**
   * Many reads in one call. Entry i reads sizes[i] bytes at addrs[i] into the returned buffer at
   * offset sum(sizes[0..i)). status[i] is 0 on success or a small code (1 excluded, 2 not mapped,
   * 3 other error) and the bytes for a failed entry are zero.
   */
  readBatch(space: 'virt' | 'phys', addrs: BigUint64Array, sizes: Uint32Array): { data: Buffer; status: Uint8Array };
  /** a new independent reader on the same file (for another thread) */
  clone(): NativeDumpFile;
  close(): void;
  /** the decoded-page cache of our own back end (all zeros for libkdumpfile's, which keeps its own) */
  cacheStats(): PageCacheStats;
}

export interface NativeOpenOptions {
  /** force a back end: 'vaat' uses our own readers even for files libkdumpfile can read */
  backend?: 'auto' | 'libkdumpfile' | 'vaat';
  /** bytes of decoded pages kept per open dump (default 16 MiB; at least 64 pages are kept) */
  pageCacheBytes?: number;
}

export interface PageCacheStats { pages: number; capacityPages: number; pageBytes: number }

export interface NativeModule {
  DumpFile: new (path: string, options?: NativeOpenOptions) => NativeDumpFile;
  /** detect a file's format by content without opening it fully; null if not a dump */
  detectFormat(path: string): string | null;
  /** while on, SIGINT ends the process at once (one line, status 130) even mid-computation; absent from addons built before it */
  interruptExits?(on: boolean): void;
  /** a whole regular file (at most `limit` bytes) in memory backed by transparent huge pages; throws with .code IO */
  readFileHuge?(path: string, limit: number): Buffer;
  /** zeroed memory backed by transparent huge pages (at most 1 GiB, as any one read) */
  allocHuge?(bytes: number): Buffer;
  /** CRC-32 (zlib's) of the bytes */
  crc32?(data: Uint8Array): number;
  // Checks over a cached symbol table's columns, which every start runs (src/symbols): the same
  // answers as the JavaScript loops beside their callers, which run where the addon lacks them.
  /** the first i with a[i-1] > a[i], or -1 */
  firstDescent?(a: BigUint64Array): number;
  /** whether `a` holds each index below its length exactly once */
  isPermutation?(a: Uint32Array): boolean;
  /** whether `starts` (n + 1 entries) splits the bytes into n NUL-separated names (see name-index.ts startsFit) */
  startsFit?(text: Uint8Array, starts: Uint32Array): boolean;
  /** adds delta (mod 2^64) to every element >= base, in place */
  shiftAbove?(a: BigUint64Array, delta: bigint, base: bigint): void;
  /** libkdumpfile is null when it is not installed (it is optional: opened at run time) */
  versions: { libkdumpfile: string | null; lzo: string; zstd: string; zlib: string; snappy: string };
}

let cached: NativeModule | undefined;

/** The platforms with a prebuilt addon package, `@vaat/<platform>` (npm/<platform>/ in the repository). */
export const PREBUILT_PLATFORMS = ['linux-x64-gnu', 'linux-arm64-gnu'] as const;

/** This machine as a prebuilt package names it: `linux-x64-gnu`, `linux-arm64-musl`, `darwin-arm64`... */
export function runtimePlatform(): string {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform !== 'linux') return base;
  // glibc reports its version in the process report; musl does not (detect-libc does the same).
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return `${base}-${header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
}

/** The addon could not be found or loaded: says what was tried and what to do. */
export class NativeAddonError extends Error {
  override name = 'NativeAddonError';
}

const SOURCE_BUILD_HINT =
  'build it from source (needs g++, make, python3, pkg-config and the -dev packages of libdw, libelf, lzo2, snappy, zstd, zlib, libkdumpfile): ' +
  'npm explore vaat -- npm run build:native';

/** the addon, or null when it cannot be loaded: for work Node can also do, only slower (checksums, whole-file and huge-page reads) */
export function loadNativeOrNull(): NativeModule | null {
  try { return loadNative(); } catch { return null; }
}

/**
 * Load the addon, first found of: VAAT_NATIVE (a path to a .node file); a build from source in the
 * package (build/Release, what a checkout and `npm run build:native` make); the prebuilt package
 * for this platform (`@vaat/linux-x64-gnu`...), an optional dependency npm installs only on the
 * platform it fits. VAAT_BUILD_FROM_SOURCE=1 uses the build from source only.
 */
export function loadNative(): NativeModule {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const load = (path: string, hint = ''): NativeModule => {
    try {
      return require(path) as NativeModule;
    } catch (e) {
      throw new NativeAddonError(`cannot load the native addon ${path}: ${(e as Error).message}${hint}`);
    }
  };
  if (process.env.VAAT_NATIVE) return (cached = load(process.env.VAAT_NATIVE));
  const root = packageRoot();
  const built = root ? join(root, 'build/Release/vaat_native.node') : undefined;
  if (built && existsSync(built)) return (cached = load(built));
  const platform = runtimePlatform();
  if (process.env.VAAT_BUILD_FROM_SOURCE === '1') {
    throw new NativeAddonError(`VAAT_BUILD_FROM_SOURCE=1 but there is no build at ${built ?? 'build/Release'}; ${SOURCE_BUILD_HINT}`);
  }
  const pkg = `@vaat/${platform}`;
  let prebuilt: string | undefined;
  try {
    prebuilt = require.resolve(`${pkg}/vaat_native.node`);
  } catch { /* not installed: explained below */ }
  // (a glibc older than the binaries' 2.31 fails here, naming the missing GLIBC_ version)
  if (prebuilt) return (cached = load(prebuilt, `; the prebuilt binaries need glibc 2.31 or newer, else ${SOURCE_BUILD_HINT}`));
  if (!(PREBUILT_PLATFORMS as readonly string[]).includes(platform)) {
    throw new NativeAddonError(`no prebuilt binary for ${platform} (prebuilt: ${PREBUILT_PLATFORMS.join(', ')}); ${SOURCE_BUILD_HINT}`);
  }
  throw new NativeAddonError(
    `vaat: the prebuilt binary for ${platform} (${pkg}, an optional dependency) is not installed; ` +
      `reinstall without --omit=optional / --no-optional, or ${SOURCE_BUILD_HINT}`,
  );
}
