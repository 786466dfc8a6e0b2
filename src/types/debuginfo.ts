/**
 * Debuginfo for a dump: find the vmlinux with DWARF that belongs to the dump's kernel in the
 * places distributions install it, and refuse one that belongs to another build. A vmlinux from
 * the wrong build gives plausible-looking but wrong offsets, so identity is checked by build-id
 * (VMCOREINFO BUILD-ID against the ELF note) or, when either side lacks one, by release string.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DwarfError, DwarfTypes } from './dwarf.js';
import { dwarfErrorFromNative, loadDwarfIndex, nativeDwarf, type ElfIdentity, type LoadedDwarfIndex } from './type-cache.js';

/** What the dump says its kernel is (VMCOREINFO BUILD-ID and OSRELEASE). */
export interface KernelIdentity {
  readonly buildId?: string | null;
  readonly release?: string | null;
}

/** A vmlinux that passed the identity check. */
export interface VmlinuxMatch {
  readonly path: string;
  readonly identity: ElfIdentity;
  /** how it was matched; 'unverified' only for a file the caller named and neither id was available */
  readonly matchedBy: 'build-id' | 'release' | 'unverified';
}

/** A vmlinux that is not the dump's kernel. */
export class DebuginfoMismatchError extends DwarfError {}

const norm = (s: string | null | undefined): string | null => (s ? s.trim().toLowerCase() : null) || null;

/** Where distributions put a kernel's debuginfo, most specific first. `root` prefixes every path (tests). */
export function debuginfoCandidates(want: KernelIdentity, root = ''): string[] {
  const out: string[] = [];
  const id = norm(want.buildId);
  if (id && /^[0-9a-f]{4,}$/.test(id)) out.push(join(root, '/usr/lib/debug/.build-id', id.slice(0, 2), `${id.slice(2)}.debug`));
  const rel = want.release?.trim();
  if (rel && !rel.includes('/')) {
    out.push(
      join(root, '/usr/lib/debug/boot', `vmlinux-${rel}`),
      join(root, '/usr/lib/debug/lib/modules', rel, 'vmlinux'),
      join(root, '/boot', `vmlinux-${rel}`),
      join(root, '/lib/modules', rel, 'build/vmlinux'),
    );
  }
  return out;
}

function identify(path: string): ElfIdentity {
  try { return nativeDwarf().elfIdentity(path); } catch (e) { throw dwarfErrorFromNative(e); }
}

/**
 * Check that `path` is the dump's kernel. Throws DebuginfoMismatchError (one line naming the file
 * and both ids) when it is not, DwarfError when it is not an ELF file or has no DWARF.
 */
export function checkVmlinux(path: string, want: KernelIdentity, opts: { allowUnverified?: boolean } = {}): VmlinuxMatch {
  const identity = identify(path);
  const wantId = norm(want.buildId), haveId = norm(identity.buildId);
  const wantRel = want.release?.trim() || null, haveRel = identity.release;
  let matchedBy: VmlinuxMatch['matchedBy'];
  if (wantId && haveId) {
    if (wantId !== haveId) throw new DebuginfoMismatchError(`${path}: build-id ${haveId} does not match the dump's ${wantId} (VMCOREINFO BUILD-ID): not this kernel's vmlinux`, undefined, 'BUILD_ID_MISMATCH');
    matchedBy = 'build-id';
  } else if (wantRel && haveRel) {
    if (wantRel !== haveRel) throw new DebuginfoMismatchError(`${path}: kernel release ${haveRel} does not match the dump's ${wantRel} (VMCOREINFO OSRELEASE; no build-id on ${wantId ? 'the file' : 'the dump'}): not this kernel's vmlinux`, undefined, 'RELEASE_MISMATCH');
    matchedBy = 'release';
  } else if (opts.allowUnverified) {
    matchedBy = 'unverified';
  } else {
    throw new DebuginfoMismatchError(`${path}: cannot tell whether it is the dump's kernel (build-id ${haveId ?? 'none'} vs ${wantId ?? 'none'}, release ${haveRel ?? 'unknown'} vs ${wantRel ?? 'unknown'})`, undefined, 'UNVERIFIED');
  }
  if (!identity.hasDebugInfo) throw new DwarfError(`${path}: no DWARF debug info (no .debug_info section; a stripped vmlinux?)`, undefined, 'NO_DWARF');
  return { path, identity, matchedBy };
}

/** The first standard-place vmlinux that is the dump's kernel; others are listed with why they were passed over. */
export function findVmlinux(want: KernelIdentity, root = ''): { match: VmlinuxMatch | null; skipped: string[] } {
  const skipped: string[] = [];
  for (const path of debuginfoCandidates(want, root)) {
    if (!existsSync(path)) continue;
    try {
      return { match: checkVmlinux(path, want), skipped };
    } catch (e) {
      skipped.push((e as Error).message);
    }
  }
  return { match: null, skipped };
}

export interface DumpDwarf {
  readonly types: DwarfTypes;
  readonly match: VmlinuxMatch;
  readonly load: LoadedDwarfIndex;
  /** one line for `vaat info` / Vmcore.sources() */
  readonly source: string;
}

export interface DumpDwarfOptions {
  /** a vmlinux to use (checked, errors thrown), false never to look, undefined to look in the standard places */
  readonly vmlinux?: string | false;
  /** a BTF file the caller chose: then standard places are not searched (an explicit choice wins) */
  readonly btf?: string;
  readonly inlines?: boolean;
  readonly cache?: boolean;
  /** prefix for the standard places (tests) */
  readonly root?: string;
}

/**
 * DWARF types for a dump, or null when there is nothing to use (then BTF is the fallback). A
 * vmlinux the caller named must match and load, or this throws; one found in the standard places
 * is used only when it matches and loads.
 */
const loadedDwarf = new Map<string, DumpDwarf>();

/**
 * The default for `vmlinux` when the caller gives none: VAAT_VMLINUX=none never looks for
 * debuginfo (types from BTF, as on a machine without it), a path names one; unset: look.
 */
export function vmlinuxFromEnv(env: NodeJS.ProcessEnv = process.env): string | false | undefined {
  const v = env.VAAT_VMLINUX;
  if (v === undefined || v === '') return undefined;
  return v === 'none' ? false : v;
}

export function dwarfTypesForDump(want: KernelIdentity, opts: DumpDwarfOptions = {}): DumpDwarf | null {
  if (opts.vmlinux === false) return null;
  const explicit = typeof opts.vmlinux === 'string';
  if (!explicit && opts.btf) return null;
  let match: VmlinuxMatch | null;
  if (explicit) {
    match = checkVmlinux(opts.vmlinux as string, want, { allowUnverified: true });
  } else {
    match = findVmlinux(want, opts.root).match;
    if (!match) return null;
  }
  // One process analysing many dumps of one kernel (fleet runs) parses its DWARF index once.
  const key = `${match.path}\0${match.identity.buildId ?? ''}\0${opts.inlines ? 1 : 0}`;
  const seen = loadedDwarf.get(key);
  if (seen) return { ...seen, source: `${seen.source}; parsed once for this process` };
  try {
    const load = loadDwarfIndex(match.path, { buildId: match.identity.buildId, inlines: opts.inlines, cache: opts.cache });
    const label = load.cacheFile && load.from === 'cache' ? `${load.cacheFile} (index of ${match.path})` : match.path;
    const types = new DwarfTypes(load.index, { label, ...(load.orders ? { orders: load.orders } : {}) });
    const how = load.from === 'cache'
      ? `index from cache ${load.cacheFile}`
      : `index extracted in ${(load.ms / 1000).toFixed(1)} s${load.cacheFile ? `, cached at ${load.cacheFile}` : ''}`;
    const id = match.matchedBy === 'build-id' ? `build-id ${match.identity.buildId}` : match.matchedBy === 'release' ? `release ${match.identity.release}` : 'identity unverified';
    const result = { types, match, load, source: `DWARF ${match.path} (${id}; ${how}${load.cacheNote ? `; ${load.cacheNote}` : ''})` };
    loadedDwarf.set(key, result);
    return result;
  } catch (e) {
    if (explicit) throw e;
    return null; // a broken file in a standard place must not cost the dump its BTF
  }
}
