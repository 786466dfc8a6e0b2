/**
 * One dump's analysis for the fleet service, run inside a fleet worker process (cli/worker.ts):
 * the report directory of src/fleet/report.ts (every standard analysis as text and JSON), read
 * back whole so that the service can keep it in its database — a worker on another machine
 * writes its report files on its own disk, and the HTTP server reads only the database.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ASSET_FILES, copyAssets, loadDumpPageData, renderDumpPage } from '../report/html/index.js';
import { writeReport, type ReportDeps, type ReportSummary } from '../fleet/report.js';
import type { ServiceJob } from '../fleet/jobs.js';
import type { CrashSignature } from '../fleet/signature.js';

export interface SectionResult {
  /** the report file's name: 'sys', 'signature', 'bt-a' ... */
  name: string;
  command: string;
  argv: string[];
  ok: boolean;
  ms: number;
  error: string | null;
  /** the command's --json output and its text, when it succeeded */
  json: string | null;
  text: string | null;
}

export interface ServiceAnalysis {
  /** the format the dump was opened as, e.g. 'flattened+kdump-compressed' */
  format: string;
  /** the file is shorter than its headers say: a capture cut short */
  truncated: boolean;
  warnings: string[];
  reportDir: string;
  /** the report's summary.json (which analyses ran, how long, the overview row) */
  summary: ReportSummary;
  title: string | null;
  signature: CrashSignature | null;
  sections: SectionResult[];
}

const readOr = (file: string): string | null => { try { return readFileSync(file, 'utf8'); } catch { return null; } };

export async function analyseForService(path: string, job: ServiceJob, deps: ReportDeps): Promise<ServiceAnalysis> {
  let attrs: { format: string; truncated: boolean; warnings: string[] } | null = null;
  const names = job.commands ? deps.names.filter((n) => n === 'signature' || job.commands!.includes(n)) : deps.names;
  const summary: ReportSummary = await writeReport(path, { kind: 'report', outDir: job.reportsDir, roots: job.roots, force: true }, {
    ...deps,
    names,
    open: (p) => {
      const vm = deps.open(p);
      attrs = { format: vm.dump.attrs.format, truncated: vm.dump.attrs.truncated, warnings: [...vm.dump.attrs.warnings] };
      return vm;
    },
  });
  const dir = join(job.reportsDir, summary.dir);
  writeDumpPage(dir, summary, job.reportsDir);
  const sections: SectionResult[] = summary.analyses.map((a) => ({
    name: a.file, command: a.command, argv: a.argv, ok: a.ok, ms: a.ms, error: a.error ?? null,
    json: a.ok ? readOr(join(dir, `${a.file}.json`)) : null,
    text: a.ok ? readOr(join(dir, `${a.file}.txt`)) : null,
  }));
  const sig = sections.find((s) => s.name === 'signature' && s.ok)?.json;
  const a = attrs as { format: string; truncated: boolean; warnings: string[] } | null;
  return {
    format: a?.format ?? 'unknown', truncated: a?.truncated ?? false, warnings: a?.warnings ?? [],
    reportDir: dir, summary, title: summary.title, signature: sig ? JSON.parse(sig) as CrashSignature : null, sections,
  };
}

/**
 * The dump's HTML page in its report directory, as `vaat report --html` writes one (the page the
 * service serves is drawn from the database, with the bucket and similar dumps added). The
 * service's report directories are REPORTS/ID/DIR: the assets go once into REPORTS/assets.
 */
function writeDumpPage(dir: string, summary: ReportSummary, reportsDir: string): void {
  const assets = join(dirname(reportsDir), 'assets');
  if (!ASSET_FILES.every((f) => existsSync(join(assets, f)))) copyAssets(assets);
  writeFileSync(join(dir, 'index.html'), renderDumpPage(loadDumpPageData(dir, summary), { assetBase: '../../assets', upHref: null }));
}
