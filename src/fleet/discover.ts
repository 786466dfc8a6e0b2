/**
 * Finding every vmcore under a directory, by content: a file is a dump when the addon's format
 * probe says so (ELF vmcore, kdump-compressed, flattened, lzop-wrapped, QEMU), whatever its name.
 * Directory symlinks are followed, but each directory (and each file) is visited once by
 * (dev, ino), so loops and aliases cost nothing. kdump's directory conventions give extra facts:
 * `<host>-<date>/vmcore` names the host and the time of capture, and `vmcore-incomplete` is a
 * capture that did not finish (analysed when its header is intact, and reported as incomplete).
 */
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface FoundDump {
  path: string;
  /** the format the probe names, e.g. 'kdump-compressed', 'flattened+kdump-compressed', 'lzop+elf' */
  format: string;
  size: number;
  mtimeMs: number;
  /** kdump's `vmcore-incomplete`: the capture was interrupted */
  incomplete: boolean;
  /** from a kdump directory name `<host>-<YYYY-MM-DD-HH:MM[:SS]>` */
  dirHost: string | null;
  dirDate: string | null;
}

export interface SkippedFile { path: string; reason: string }

export interface Discovery {
  dumps: FoundDump[];
  skipped: SkippedFile[];
}

export interface DiscoverOptions {
  /** the format probe: a format name or null (the addon's detectFormat) */
  detect(path: string): string | null;
  /** directory levels to descend (default 16) */
  maxDepth?: number;
}

/** smaller than this cannot hold a dump header plus any memory */
const MIN_DUMP_BYTES = 4096;
/** RHEL kdump: `/var/crash/127.0.0.1-2024-01-31-10:22:33/vmcore` */
const KDUMP_DIR = /^(.+)-(\d{4}-\d{2}-\d{2}-\d{2}:\d{2}(?::\d{2})?)$/;

function kdumpDir(file: string): { host: string | null; date: string | null } {
  const m = KDUMP_DIR.exec(basename(dirname(file)));
  return m ? { host: m[1], date: m[2] } : { host: null, date: null };
}

export interface WalkOptions {
  /** directory levels to descend (default 16) */
  maxDepth?: number;
  /** a file or directory passed over, with why */
  onSkip?(path: string, reason: string): void;
}

/**
 * Every regular file under `root` (a directory, or one file), in name order, each (dev, ino)
 * once: symlinked directories are followed, loops and aliases cost nothing. Shared by discovery
 * and the fleet service's rescans.
 */
export function walkFiles(root: string, visit: (path: string, st: Stats) => void, opts: WalkOptions = {}): void {
  const seen = new Set<string>();
  const maxDepth = opts.maxDepth ?? 16;
  const skip = opts.onSkip ?? ((): void => {});
  const key = (s: Stats): string => `${s.dev}:${s.ino}`;
  const visitDir = (dir: string, depth: number): void => {
    let names: string[];
    try { names = readdirSync(dir).sort(); } catch (e) { skip(dir, `cannot list: ${(e as Error).message.split('\n')[0]}`); return; }
    for (const n of names) {
      const p = join(dir, n);
      let st: Stats;
      try { st = statSync(p); } catch {
        // a dangling symlink or a file that vanished mid-walk
        skip(p, lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ? 'dangling or looping symlink' : 'vanished');
        continue;
      }
      if (seen.has(key(st))) { skip(p, st.isDirectory() ? 'directory already visited (symlink loop or alias)' : 'same file as one already found (link or alias)'); continue; }
      if (st.isDirectory()) {
        if (depth >= maxDepth) { skip(p, `deeper than ${maxDepth} levels`); continue; }
        seen.add(key(st));
        visitDir(p, depth + 1);
      } else if (st.isFile()) {
        seen.add(key(st));
        visit(p, st);
      }
    }
  };
  const abs = resolve(root);
  const st = statSync(abs);
  if (st.isDirectory()) { seen.add(key(st)); visitDir(abs, 0); } else visit(abs, st);
}

/** kdump's naming: `vmcore-incomplete` is a capture that did not finish */
export const isIncompleteName = (path: string): boolean => /^vmcore-incomplete/.test(basename(path));

/** the format probe's verdict on one file: a dump, or why not */
export function probeFile(path: string, st: Pick<Stats, 'size' | 'mtimeMs'>, detect: (path: string) => string | null): FoundDump | SkippedFile {
  if (st.size < MIN_DUMP_BYTES) return { path, reason: `too small for a dump (${st.size} bytes)` };
  let format: string | null;
  try { format = detect(path); } catch (e) { return { path, reason: `unreadable: ${(e as Error).message.split('\n')[0]}` }; }
  // vmcore-dmesg.txt, logs, archives: the probe reads a few header bytes and says no
  if (!format) return { path, reason: 'not a dump (content)' };
  const d = kdumpDir(path);
  return { path, format, size: st.size, mtimeMs: st.mtimeMs, incomplete: isIncompleteName(path), dirHost: d.host, dirDate: d.date };
}

/** every dump under `root` (a directory, or one file), sorted by path */
export function discoverDumps(root: string, opts: DiscoverOptions): Discovery {
  const dumps: FoundDump[] = [];
  const skipped: SkippedFile[] = [];
  walkFiles(root, (path, st) => {
    const r = probeFile(path, st, opts.detect);
    if ('reason' in r) skipped.push(r); else dumps.push(r);
  }, { maxDepth: opts.maxDepth, onSkip: (path, reason) => skipped.push({ path, reason }) });
  dumps.sort((a, b) => a.path.localeCompare(b.path));
  return { dumps, skipped };
}
