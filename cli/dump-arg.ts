/**
 * Which dump a single-dump command reads. The dump may stand anywhere among a command's
 * positional arguments and is recognised by content (the addon's format probe reads a few
 * header bytes), never by its name. With no dump on the command line: `$VAAT_VMCORE`, else the
 * newest dump under the crash directory (`--crash-dir`, `$VAAT_CRASH_DIR`, `/var/crash`), laid
 * out the way kdump-tools (`202612051520/dump.202612051520`) or RHEL's kdump
 * (`127.0.0.1-2026-12-05-15:20:33/vmcore`) write it.
 */
import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { loadNative } from '../src/dump/native.js';
import { discoverDumps, type FoundDump } from '../src/fleet/discover.js';
import { UsageError } from './errors.js';

export const DEFAULT_CRASH_DIR = '/var/crash';

/** the dump's format when `path` is an existing regular file that is a dump by content, else null */
export function dumpFormatOf(path: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) return null;
  try { return loadNative().detectFormat(path); } catch { return null; }
}

function isRegularFile(path: string): boolean {
  return !!statSync(path, { throwIfNoEntry: false })?.isFile();
}

export interface DumpChoice {
  file: string;
  /** the positional arguments left for the command, in order */
  args: string[];
  /** the dump as typed among the arguments; null when it came from the environment */
  typed: string | null;
  /** for stderr when the dump was not typed: where it came from */
  note: string | null;
}

export interface ChooseOptions {
  crashDir?: string;
  /** the command takes positional operands besides the dump (lockinfo's lock, bt's pids) */
  takesOperands?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** split the dump off `positionals`, or find the current one */
export function chooseDump(positionals: readonly string[], opts: ChooseOptions = {}): DumpChoice {
  const isDump = positionals.map((a) => dumpFormatOf(a) !== null);
  const dumps = positionals.filter((_, i) => isDump[i]);
  if (dumps.length > 1) throw new UsageError(`${dumps.map((d) => `'${d}'`).join(' and ')} are all dumps: give one dump per command (or -d DIR for many)`);
  if (dumps.length === 1) return { file: dumps[0], args: positionals.filter((_, i) => !isDump[i]), typed: dumps[0], note: null };
  // No dump by content, but an argument meant as one: opening it says what is wrong with it
  // ("not a dump", "truncated", "no such file") rather than quietly reading another dump.
  const meant = opts.takesOperands ? positionals.findIndex(isRegularFile) : positionals.length ? 0 : -1;
  if (meant >= 0) return { file: positionals[meant], args: positionals.filter((_, i) => i !== meant), typed: positionals[meant], note: null };
  return { ...currentDump(opts), args: [...positionals], typed: null };
}

/** `$VAAT_VMCORE`, else the newest dump under the crash directory */
export function currentDump(opts: ChooseOptions = {}): { file: string; note: string } {
  const env = opts.env ?? process.env;
  if (env.VAAT_VMCORE) return { file: env.VAAT_VMCORE, note: `${env.VAAT_VMCORE} (from VAAT_VMCORE)` };
  const dir = opts.crashDir ?? env.VAAT_CRASH_DIR ?? DEFAULT_CRASH_DIR;
  const found = newestDump(dir);
  if (!found) {
    throw new UsageError(`no dump given, VAAT_VMCORE is not set and there is no dump under ${dir}: name a dump, or set VAAT_VMCORE, or --crash-dir/VAAT_CRASH_DIR`);
  }
  return { file: found.dump.path, note: `${found.dump.path} (newest of ${found.of} under ${dir}${found.dump.incomplete ? '; an incomplete capture' : ''})` };
}

/** kdump-tools: `<YYYYMMDDHHMM>/dump.<YYYYMMDDHHMM>` (and `vmcore`) */
const KDUMP_TOOLS_DIR = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/;
/** RHEL kdump: `<host>-<YYYY-MM-DD-HH:MM[:SS]>/vmcore` */
const RHEL_DATE = /^(\d{4})-(\d{2})-(\d{2})-(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * When the dump was captured: the date in its kdump directory's name (local time, as kdump
 * writes it), else the file's modification time. Copies keep the directory name but not always
 * the mtime, so the name is the better witness.
 */
export function captureTime(d: Pick<FoundDump, 'path' | 'mtimeMs' | 'dirDate'>): number {
  const m = RHEL_DATE.exec(d.dirDate ?? '') ?? KDUMP_TOOLS_DIR.exec(basename(dirname(d.path)));
  if (!m) return d.mtimeMs;
  const [y, mo, da, h, mi, s = 0] = m.slice(1).map((x) => Number(x ?? 0));
  return new Date(y, mo - 1, da, h, mi, s).getTime();
}

/** the newest dump under `dir` (complete captures before incomplete ones), with how many there were */
export function newestDump(dir: string): { dump: FoundDump; of: number } | null {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return null;
  const { dumps } = discoverDumps(dir, { detect: (p) => loadNative().detectFormat(p), maxDepth: 3 });
  if (dumps.length === 0) return null;
  const ranked = [...dumps].sort((a, b) => Number(a.incomplete) - Number(b.incomplete) || captureTime(b) - captureTime(a) || a.path.localeCompare(b.path));
  return { dump: ranked[0], of: dumps.length };
}
