/**
 * The DWARF index of a kernel, cached on disk by build-id so only the first open of any dump of
 * that kernel pays for reading the vmlinux's DWARF (seconds); later opens read one file (ms).
 *
 * `${XDG_CACHE_HOME:-~/.cache}/vaat/types-<build-id>.bin` (`types-inlines-<build-id>.bin` for an
 * index that also holds inlined-function ranges): a header (magic, cache version, the
 * index's format version, payload length, checksum, build-id), the index as the addon made it and
 * its name-sorted lookup orders (dwarf-orders.ts), so a warm start builds no name Maps.
 * A cache file that fails any check is ignored and rebuilt; writes go to a temporary file renamed
 * into place, so readers never see half a file and concurrent writers do not collide.
 */
import { cacheDir, cachePath, readCache, writeCache } from '../cache/build-id-cache.js';
import { loadNative } from '../dump/native.js';
import { reportProgress } from '../progress.js';
import { appendDwarfOrders, splitDwarfOrders, type DwarfLookupOrders } from './dwarf-orders.js';
import { checkDwarfOrders, DWARF_INDEX_VERSION, DwarfError, DwarfTypes, readDwarfIndexHeader } from './dwarf.js';
import { nowMs } from '../clock.js';

/** Bump when the extractor's output or the stored form changes, so old caches are rebuilt (2: lookup orders). */
export const TYPE_CACHE_VERSION = 2;
const KIND = 'types';
// An index with inline ranges is twice the size and only the unwinder wants it: its own file, so
// it never replaces the types-only one that every open reads.
const KIND_INLINES = 'types-inlines';
// the file's version covers both this wrapper's and the native index format's
const CACHE_VERSION = TYPE_CACHE_VERSION * 1000 + DWARF_INDEX_VERSION;

/** What the addon's elfIdentity() reports about a file. */
export interface ElfIdentity {
  readonly buildId: string | null;
  /** from the `Linux version X` banner in .rodata */
  readonly release: string | null;
  readonly hasDebugInfo: boolean;
  readonly type: 'exec' | 'rel' | 'dyn' | 'core' | 'other';
}

export interface DwarfExtractStats {
  readonly cus: number; readonly types: number; readonly items: number; readonly variables: number;
  readonly functions: number; readonly inlines: number; readonly fwdResolved: number; readonly merged: number; readonly ms: number;
}

/**
 * An allocated section and the address the index's addresses are relative to: the link address
 * in a vmlinux; in a module .ko (relocatable), where libdwfl laid the section out to apply the
 * .ko's relocations to its DWARF.
 */
export interface DwarfSectionAddress { readonly index: number; readonly name: string; readonly addr: bigint; readonly size: bigint }

interface NativeDwarf {
  elfIdentity(path: string): ElfIdentity;
  dwarfIndex(path: string, opts?: { inlines?: boolean; expectBuildId?: string }): ElfIdentity & { index: Buffer; stats: DwarfExtractStats; sections?: DwarfSectionAddress[] };
}

/** The addon's DWARF entry points; a clear error when the built addon predates them. */
export function nativeDwarf(): NativeDwarf {
  const m: Partial<NativeDwarf> = loadNative() as Partial<NativeDwarf>;
  if (typeof m.elfIdentity !== 'function' || typeof m.dwarfIndex !== 'function') {
    throw new DwarfError('the vaat native addon has no DWARF reader (built before native/dwarf.cc): run npm run build:native');
  }
  return m as NativeDwarf;
}

/** Addon errors (with .code) as DwarfError, keeping the code; the message already names the file. */
export function dwarfErrorFromNative(e: unknown): Error {
  if (!(e instanceof Error)) return new DwarfError(String(e));
  const code = (e as Error & { code?: unknown }).code;
  return typeof code === 'string' ? new DwarfError(e.message, undefined, code) : e;
}

export function typeCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  return cacheDir(env);
}

/** null for a build-id that is not plain hex: it never becomes part of a path. */
export function typeCachePath(buildId: string, env: NodeJS.ProcessEnv = process.env, inlines = false): string | null {
  return cachePath(inlines ? KIND_INLINES : KIND, buildId, env);
}

/** The cached index for a build-id and its lookup orders, or null (with why) when absent, damaged, stale or lacking inlines. */
export function readTypeCache(buildId: string, opts: { needInlines?: boolean; env?: NodeJS.ProcessEnv } = {}):
  { index: Buffer; orders: DwarfLookupOrders; file: string } | { index: null; why: string } {
  if (!/^[0-9a-f]{8,128}$/.test(buildId)) return { index: null, why: `build-id '${buildId}' is not hex` };
  const hit = readCache(opts.needInlines ? KIND_INLINES : KIND, buildId, CACHE_VERSION, opts.env);
  if (!hit.data) return { index: null, why: hit.why };
  const split = splitDwarfOrders(hit.data);
  if (!split.index) return split;
  try {
    const h = readDwarfIndexHeader(split.index, hit.file);
    if (h.buildId !== buildId) return { index: null, why: `index holds build-id ${h.buildId}` };
    if (opts.needInlines && !h.hasInlines) return { index: null, why: 'no inline ranges in it' };
    const why = checkDwarfOrders(split.index, split.orders);
    if (why) return { index: null, why: `lookup orders: ${why}` };
  } catch (e) {
    return { index: null, why: (e as Error).message };
  }
  return { index: split.index, orders: split.orders, file: hit.file };
}

/**
 * Store an index and its lookup orders (made here when not given) atomically (temp file +
 * rename) in the file for its kind (with or without inline ranges); returns the cache file.
 */
export function writeTypeCache(buildId: string, index: Uint8Array, env: NodeJS.ProcessEnv = process.env, orders?: DwarfLookupOrders): string {
  if (!/^[0-9a-f]{8,128}$/.test(buildId)) throw new DwarfError(`cannot cache types for build-id '${buildId}': not hex`);
  let inlines = false;
  let payload: Uint8Array = index;
  try {
    inlines = readDwarfIndexHeader(index).hasInlines;
    payload = appendDwarfOrders(index, orders ?? new DwarfTypes(index).lookupOrders());
  } catch { /* not an index: stored as given, rejected on read */ }
  return writeCache(inlines ? KIND_INLINES : KIND, buildId, CACHE_VERSION, payload, env);
}

export interface LoadedDwarfIndex {
  readonly index: Buffer;
  /** the index's lookup orders, when read from or written to the cache (else DwarfTypes builds Maps) */
  readonly orders: DwarfLookupOrders | null;
  readonly buildId: string | null;
  readonly from: 'cache' | 'vmlinux';
  /** the cache file read or written; null when there is none (no build-id, cache off, write failed) */
  readonly cacheFile: string | null;
  /** why the cache was not used or not written, for messages */
  readonly cacheNote: string | null;
  readonly ms: number;
  /** extraction figures, when the index was extracted now */
  readonly stats: DwarfExtractStats | null;
  /** the allocated sections and their addresses in the index, when extracted now (not kept in the cache) */
  readonly sections: readonly DwarfSectionAddress[] | null;
}

let extractions = 0;
/** How many times this process ran the native extraction (tests check the warm path skips it). */
export function nativeExtractions(): number { return extractions; }

export interface LoadDwarfIndexOptions {
  /** the vmlinux's build-id when already read (saves reading its notes again) */
  readonly buildId?: string | null;
  /** also collect inlined-function pc ranges */
  readonly inlines?: boolean;
  /** false: neither read nor write the cache */
  readonly cache?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** A vmlinux's DWARF index: from the cache when it holds this build-id, else extracted (and cached). */
export function loadDwarfIndex(vmlinux: string, opts: LoadDwarfIndexOptions = {}): LoadedDwarfIndex {
  const t0 = nowMs();
  const native = nativeDwarf();
  let buildId = opts.buildId;
  if (buildId === undefined) {
    try { buildId = native.elfIdentity(vmlinux).buildId; } catch (e) { throw dwarfErrorFromNative(e); }
  }
  const useCache = opts.cache !== false && !!buildId;
  let cacheNote: string | null = buildId ? null : 'no build-id: not cached';
  if (useCache) {
    const hit = readTypeCache(buildId!, { needInlines: opts.inlines, env: opts.env });
    if (hit.index) return { index: hit.index, orders: hit.orders, buildId: buildId!, from: 'cache', cacheFile: hit.file, cacheNote: null, ms: nowMs() - t0, stats: null, sections: null };
    if (hit.why !== 'no cache file') cacheNote = `cache ignored: ${hit.why}`;
  }
  extractions++;
  reportProgress(`indexing the DWARF types of ${vmlinux}${opts.inlines ? ' with inlined functions' : ''} (once per kernel build)…`);
  let r: ReturnType<NativeDwarf['dwarfIndex']>;
  try {
    r = native.dwarfIndex(vmlinux, { inlines: !!opts.inlines, ...(buildId ? { expectBuildId: buildId } : {}) });
  } catch (e) {
    throw dwarfErrorFromNative(e);
  }
  let cacheFile: string | null = null;
  let orders: DwarfLookupOrders | null = null;
  if (useCache) {
    try {
      orders = new DwarfTypes(r.index).lookupOrders();
      cacheFile = writeTypeCache(buildId!, r.index, opts.env, orders);
    } catch (e) {
      cacheNote = `cache not written: ${(e as Error).message}`;
    }
  }
  return { index: r.index, orders, buildId: r.buildId, from: 'vmlinux', cacheFile, cacheNote, ms: nowMs() - t0, stats: r.stats, sections: r.sections ?? null };
}
