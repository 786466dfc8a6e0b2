/**
 * Report directories: for each vmcore, one directory with every standard analysis as text and
 * JSON (each through its command's own run() and render()), a summary.json that records what
 * succeeded, what failed and why, and the dump's size, mtime and build-id, so that a re-run skips
 * dumps already reported and unchanged. index.json / index.txt list every report in the output
 * directory.
 */
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { escapeControls, UsageError } from '../errors/index.js';
import type { Vmcore } from '../vmcore.js';
import type { FleetRow, ReportJob } from './jobs.js';

export const REPORT_FORMAT = 1;

/** the analyses, as `vaat <command> <vmcore> ...argv`; those whose command is not registered are left out */
export const REPORT_ANALYSES: readonly { file: string; command: string; argv: string[] }[] = [
  { file: 'sys', command: 'sys', argv: [] },
  { file: 'signature', command: 'signature', argv: [] },
  { file: 'log', command: 'log', argv: [] },
  { file: 'bt-a', command: 'bt', argv: ['-a'] },
  { file: 'stacks', command: 'stacks', argv: [] },
  { file: 'runq', command: 'runq', argv: ['-t'] },
  { file: 'runq-g', command: 'runq', argv: ['-g'] },
  { file: 'ps', command: 'ps', argv: [] },
  { file: 'lockinfo-blocked', command: 'lockinfo', argv: ['--blocked'] },
  { file: 'cgroupinfo', command: 'cgroupinfo', argv: [] },
  { file: 'cpuinfo', command: 'cpuinfo', argv: ['-i', '-t'] },
  { file: 'mod', command: 'mod', argv: [] },
];

export type AnalysisRun = (
  vm: Vmcore, command: string, argv: string[], want: { json: boolean; text: boolean; row: boolean; color: boolean },
) => Promise<{ json?: string; text?: string; row?: FleetRow }>;

export interface AnalysisRecord {
  file: string;
  command: string;
  argv: string[];
  ok: boolean;
  ms: number;
  error?: string;
}

export interface ReportSummary {
  format: number;
  path: string;
  /** the report directory's name inside the output directory */
  dir: string;
  size: number;
  mtimeMs: number;
  buildId: string | null;
  generatedAt: string;
  /** this run skipped the dump: unchanged since the recorded report */
  skipped?: boolean;
  /** the dump could not be opened at all */
  openError?: string;
  overview: FleetRow | null;
  /** the signature's title, when the signature analysis ran */
  title: string | null;
  analyses: AnalysisRecord[];
}

export interface ReportDeps {
  /** registered command names */
  names: string[];
  open(path: string): Vmcore;
  run: AnalysisRun;
}

/** write atomically, so an interrupted run never leaves a half-written summary */
function writeFileAtomic(file: string, text: string): void {
  writeFileSync(file + '.tmp', text);
  renameSync(file + '.tmp', file);
}

function readSummary(file: string): ReportSummary | null {
  try { return JSON.parse(readFileSync(file, 'utf8')) as ReportSummary; } catch { return null; }
}

/**
 * A dump's report directory name: its path below the root given, '/' → '__'. The same path
 * always gives the same name (re-runs find their reports); two paths never share one: when the
 * readable form is lossy (a character replaced by '_', or a '__' of its own that '/' could also
 * have made: `x y/vmcore`, `x_y/vmcore`, `a__b/vmcore`), a hash of the exact path is appended.
 */
export function reportName(roots: readonly string[], path: string): string {
  let rel = basename(path);
  for (const r of roots) {
    const x = relative(resolve(r), path);
    if (x && !x.startsWith('..')) { rel = x; break; }
  }
  const readable = rel.replace(/\//g, '__').replace(/[^\w.:@+-]/g, '_');
  const lossless = /^[\w.:@+\-/]*$/.test(rel) && !rel.includes('__') && !/_\/|\/_/.test(rel) && !rel.startsWith('.');
  if (lossless) return readable;
  // node:crypto loaded here, not at every start of the CLI bundle (~10 ms) for this rare name
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return `${readable}-${createHash('sha1').update(rel).digest('hex').slice(0, 8)}`;
}

/**
 * Make sure reports can be written under `dir` before any dump is analysed: create the missing
 * levels one at a time (a recursive mkdir under /proc never returns) and write a probe file.
 * Throws a UsageError naming the directory and the reason.
 */
export function ensureWritableDir(dir: string): void {
  const abs = resolve(dir);
  const missing: string[] = [];
  let d = abs;
  while (!existsSync(d)) {
    missing.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  const fail = (why: unknown): never => {
    const code = (why as NodeJS.ErrnoException)?.code;
    throw new UsageError(`cannot write reports to ${abs}: ${code ?? (why instanceof Error ? why.message : String(why))}`);
  };
  try { if (!statSync(d).isDirectory()) fail(`${d} is not a directory`); } catch (e) { if (e instanceof UsageError) throw e; fail(e); }
  for (const m of missing) { try { mkdirSync(m); } catch (e) { fail(e); } }
  const probe = join(abs, `.vaat-write-probe-${process.pid}`);
  try { writeFileSync(probe, ''); unlinkSync(probe); } catch (e) { fail(e); }
}

export async function writeReport(path: string, job: ReportJob, deps: ReportDeps): Promise<ReportSummary> {
  const name = reportName(job.roots, path);
  const dir = join(job.outDir, name);
  const summaryFile = join(dir, 'summary.json');
  const st = statSync(path);
  const analyses = REPORT_ANALYSES.filter((a) => deps.names.includes(a.command));
  const prev = job.force ? null : readSummary(summaryFile);
  let vm: Vmcore;
  try { vm = deps.open(path); } catch (e) {
    const s: ReportSummary = {
      format: REPORT_FORMAT, path, dir: name, size: st.size, mtimeMs: st.mtimeMs, buildId: null, generatedAt: new Date().toISOString(),
      openError: (e as Error).message.split('\n')[0], overview: null, title: null, analyses: [],
    };
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(summaryFile, JSON.stringify(s, null, 2) + '\n');
    throw e;
  }
  try {
    const buildId = vm.vmcoreinfo.buildId ?? null;
    const unchanged = prev && prev.format === REPORT_FORMAT && prev.size === st.size && prev.mtimeMs === st.mtimeMs
      && prev.buildId === buildId && !prev.openError
      && analyses.every((a) => prev.analyses.some((r) => r.file === a.file));
    if (unchanged) return { ...prev, skipped: true };
    mkdirSync(dir, { recursive: true });
    // the old summary goes first: a run stopped half way leaves a directory without one (done
    // again next run), never an old summary over a mix of old and new files
    rmSync(summaryFile, { force: true });
    const records: AnalysisRecord[] = [];
    let overview: FleetRow | null = null;
    let title: string | null = null;
    for (const a of analyses) {
      const t0 = performance.now();
      try {
        const r = await deps.run(vm, a.command, a.argv, { json: true, text: true, row: a.file === 'sys' || a.file === 'signature', color: false });
        writeFileAtomic(join(dir, `${a.file}.json`), (r.json ?? 'null') + '\n');
        writeFileAtomic(join(dir, `${a.file}.txt`), r.text ?? '');
        if (a.file === 'sys' && r.row) overview = r.row;
        if (a.file === 'signature' && r.row && typeof r.row.SIGNATURE === 'string') title = r.row.SIGNATURE;
        records.push({ file: a.file, command: a.command, argv: a.argv, ok: true, ms: Math.round(performance.now() - t0) });
      } catch (e) {
        // one failed analysis is recorded and the report goes on
        records.push({ file: a.file, command: a.command, argv: a.argv, ok: false, ms: Math.round(performance.now() - t0), error: (e as Error).message.split('\n')[0] });
      }
    }
    const s: ReportSummary = {
      format: REPORT_FORMAT, path, dir: name, size: st.size, mtimeMs: st.mtimeMs, buildId, generatedAt: new Date().toISOString(),
      overview, title, analyses: records,
    };
    writeFileAtomic(summaryFile, JSON.stringify(s, null, 2) + '\n');
    return s;
  } finally {
    vm.close();
  }
}

export interface IndexEntry { dir: string; path: string; title: string | null; ok: number; failed: number; openError: string | null; generatedAt: string; overview: FleetRow | null }

/** index.json and index.txt over every report directory in outDir (this run's and earlier ones) */
export function writeIndex(outDir: string): IndexEntry[] {
  const entries: IndexEntry[] = [];
  for (const d of existsSync(outDir) ? readdirSync(outDir).sort() : []) {
    const s = readSummary(join(outDir, d, 'summary.json'));
    if (!s) continue;
    entries.push({
      dir: d, path: s.path, title: s.title, ok: s.analyses.filter((a) => a.ok).length, failed: s.analyses.filter((a) => !a.ok).length,
      openError: s.openError ?? null, generatedAt: s.generatedAt, overview: s.overview,
    });
  }
  writeFileAtomic(join(outDir, 'index.json'), JSON.stringify(entries, null, 2) + '\n');
  // index.txt is for people (cat, less): strings from the dumps are escaped as everywhere else
  const lines = entries.map((e) => [e.dir, e.openError ? `FAILED: ${e.openError}` : `${e.ok} ok, ${e.failed} failed`, e.title ?? '-', e.path].map(escapeControls).join('\t'));
  writeFileAtomic(join(outDir, 'index.txt'), ['DIR\tANALYSES\tSIGNATURE\tVMCORE', ...lines].join('\n') + '\n');
  return entries;
}
