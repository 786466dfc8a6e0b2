/**
 * vaat report VMCORE|-d DIR [-o OUTDIR]: a directory per vmcore with every standard analysis as
 * .txt and .json (src/fleet/report.ts), summary.json per vmcore and index.json/index.txt over all.
 * Dumps already reported and unchanged (size, mtime, build-id) are skipped; --force redoes them.
 * --html adds a static site over the output directory (src/report/html/).
 */
import { resolve } from 'node:path';
import { defineCommand, type VaatCommand } from '../src/plugin.js';
import { ensureWritableDir, writeIndex, type ReportSummary } from '../src/fleet/report.js';
import type { FleetCapable } from '../src/fleet/jobs.js';
import { writeHtmlSite } from '../src/report/html/index.js';
import { UsageError } from '../src/errors/index.js';

interface ReportOptions { out?: string; force?: boolean; html?: boolean; json?: boolean }

export interface ReportResult {
  outDir: string;
  written: { path: string; dir: string; ok: number; failed: { analysis: string; error: string }[] }[];
  skipped: string[];
  failed: { path: string; error: string; timedOut?: boolean }[];
  index: string;
  /** --html: the fleet page (index.html) and how many dump pages were written */
  html: { index: string; pages: number } | null;
}

const command: VaatCommand<ReportOptions, ReportResult> & FleetCapable<ReportOptions, ReportResult> = {
  ...defineCommand<ReportOptions, ReportResult>({
    name: 'report',
    summary: 'write a report directory per vmcore (sys, log, bt -a, stacks, runq, ps, locks, cgroups, cpus, signature)',
    args: '[vmcore|DIR]',
    options: [
      { flags: '-o, --out <dir>', description: 'where the report directories go', default: 'vaat-report' },
      { flags: '--force', description: 'redo dumps already reported and unchanged' },
      { flags: '--html', description: 'also write a static HTML site: index.html over all dumps, DIR/index.html per dump (charts, wait-for graph, opens from disk)' },
    ],
    run() { throw new UsageError('report runs through the fleet runner: vaat report VMCORE|-d DIR'); },
    render: (r, out) => renderReport(r, out),
  }),
  fleetOnly: true,
  async fleetRun(ctx) {
    const outDir = resolve(ctx.options.out ?? 'vaat-report');
    // an output directory that cannot be written is found now, not after every dump is analysed
    ensureWritableDir(outDir);
    const outcomes = await ctx.run({ kind: 'report', outDir, roots: ctx.roots, force: !!ctx.options.force });
    const r: ReportResult = { outDir, written: [], skipped: [], failed: [], index: '', html: null };
    for (const o of outcomes) {
      if (!o.ok) { r.failed.push({ path: o.path, error: o.error ?? 'failed', ...(o.timedOut ? { timedOut: true } : {}) }); continue; }
      const s = JSON.parse(o.json ?? '{}') as ReportSummary;
      if (s.skipped) { r.skipped.push(o.path); continue; }
      r.written.push({
        path: o.path, dir: s.dir, ok: s.analyses.filter((a) => a.ok).length,
        failed: s.analyses.filter((a) => !a.ok).map((a) => ({ analysis: a.file, error: a.error ?? '' })),
      });
    }
    writeIndex(outDir);
    r.index = `${outDir}/index.txt`;
    if (ctx.options.html) {
      const site = writeHtmlSite(outDir);
      r.html = { index: site.index, pages: site.pages.length };
    }
    return r;
  },
  fleetRender: (r, out) => renderReport(r, out),
};

function renderReport(r: ReportResult, out: Parameters<VaatCommand['render']>[1]): void {
  const c = out.c;
  for (const w of r.written) {
    out.line(`${c.green('wrote')}   ${w.dir}  (${w.ok} analyses${w.failed.length ? c.yellow(`, ${w.failed.length} failed: ${w.failed.map((f) => f.analysis).join(', ')}`) : ''})`);
  }
  for (const s of r.skipped) out.line(`${c.dim('skipped')} ${s}  (already reported, unchanged)`);
  for (const f of r.failed) out.line(`${c.red('failed')}  ${f.path}: ${f.error}`);
  out.line(c.dim(`${r.written.length} written, ${r.skipped.length} unchanged, ${r.failed.length} failed; index: ${r.index}`));
  if (r.html) out.line(`${c.green('html')}    ${r.html.index}  (${r.html.pages} dump page${r.html.pages === 1 ? '' : 's'})`);
}

export default command;
