/**
 * A static site over a report output directory: index.html (the fleet page), DIR/index.html per
 * dump, assets/ with the bundled script and stylesheet. Built from the report directories' JSON
 * alone (no dump is reopened); triage and `similar` run here on the signatures the reports hold.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportSummary } from '../../fleet/report.js';
import type { CrashSignature } from '../../fleet/signature.js';
import { DEFAULT_THRESHOLD, rankSimilar, triage, type TriageInput } from '../../fleet/triage.js';
import { copyAssets } from './assets.js';
import { loadDumpPageData, type FleetPageData } from './data.js';
import { renderDumpPage } from './dump-page.js';
import { renderFleetPage } from './fleet-page.js';

export interface HtmlSiteOptions {
  /** triage threshold (default: triage's own) */
  threshold?: number;
  /** similar dumps listed on each page */
  similarTop?: number;
}

export interface HtmlSiteResult { index: string; pages: string[] }

function readJson<T>(file: string): T | null {
  try { return JSON.parse(readFileSync(file, 'utf8')) as T; } catch { return null; }
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(file + '.tmp', text);
  renameSync(file + '.tmp', file);
}

/** every report directory's summary, in name order */
export function readSummaries(outDir: string): ReportSummary[] {
  const out: ReportSummary[] = [];
  for (const d of existsSync(outDir) ? readdirSync(outDir).sort() : []) {
    const s = readJson<ReportSummary>(join(outDir, d, 'summary.json'));
    if (s && typeof s.dir === 'string') out.push({ ...s, dir: d });
  }
  return out;
}

export function writeHtmlSite(outDir: string, opts: HtmlSiteOptions = {}): HtmlSiteResult {
  const summaries = readSummaries(outDir);
  const threshold = opts.threshold ?? DEFAULT_THRESHOLD;
  const inputs: TriageInput[] = [];
  const dirOf = new Map<string, string>();
  for (const s of summaries) {
    dirOf.set(s.path, s.dir);
    if (s.openError || !s.analyses.some((a) => a.file === 'signature' && a.ok)) continue;
    const sig = readJson<CrashSignature>(join(outDir, s.dir, 'signature.json'));
    if (sig && sig.identity && sig.class) inputs.push({ path: s.path, signature: sig });
  }
  const buckets = triage(inputs, { threshold });
  const bucketOf = new Map<string, (typeof buckets)[number]>();
  for (const b of buckets) for (const m of b.members) bucketOf.set(m.path, b);

  copyAssets(join(outDir, 'assets'));
  const pages: string[] = [];
  for (const s of summaries) {
    if (s.openError) continue;
    const data = loadDumpPageData(join(outDir, s.dir), s);
    const me = inputs.find((i) => i.path === s.path);
    data.similar = me ? rankSimilar(me, inputs).slice(0, opts.similarTop ?? 10).map((m) => ({ ...m, dir: dirOf.get(m.path) ?? null })) : null;
    const b = bucketOf.get(s.path);
    data.bucket = b ? { id: b.id, title: b.title, size: b.count } : null;
    const file = join(outDir, s.dir, 'index.html');
    writeAtomic(file, renderDumpPage(data));
    pages.push(file);
  }
  const sys = (s: ReportSummary, k: string): string | null => {
    const v = s.overview?.[k];
    return v === undefined || v === null ? null : String(v);
  };
  const fleet: FleetPageData = {
    generatedAt: new Date().toISOString(),
    threshold,
    dumps: summaries.map((s) => ({
      dir: s.dir, path: s.path, title: s.title, openError: s.openError ?? null,
      ok: s.analyses.filter((a) => a.ok).length, failed: s.analyses.filter((a) => !a.ok).length,
      host: sys(s, 'HOST'), release: sys(s, 'RELEASE'), crashTime: sys(s, 'DATE'), bucket: bucketOf.get(s.path)?.id ?? null,
    })),
    buckets: buckets.map((b) => ({ ...b, dirs: b.members.map((m) => dirOf.get(m.path) ?? null) })),
  };
  const index = join(outDir, 'index.html');
  writeAtomic(index, renderFleetPage(fleet));
  return { index, pages };
}
