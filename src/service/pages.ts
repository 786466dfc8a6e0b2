/**
 * The service's HTML pages: the HTML report's own renderer (src/report/html/) over what the
 * database holds, drawn on each request. The fleet page is the report's fleet page over every
 * dump and the service's buckets; a dump's page is the report's dump page, from the summary and
 * the analyses' JSON the worker stored, with the dump's bucket and similar dumps from the
 * signature index, and a first section of the service's own (state, attempts, worker, error).
 * URLs are relative, so the pages work behind a proxy under any prefix:
 *   /                     fleet page          assets/...      the report's script and stylesheet
 *   /dumps/ID             a dump's page       dumps/ID/files/NAME.json|.txt, summary.json: its report files
 */
import { DEFAULT_THRESHOLD } from '../fleet/triage.js';
import type { ReportSummary } from '../fleet/report.js';
import { anchorId, dumpPageData, esc, renderDumpPage, renderFleetPage, type FleetPageData } from '../report/html/index.js';
import { kvTable } from '../report/html/layout.js';
import type { DumpRecord, Storage } from './storage.js';

const when = (ms: number | null): string | null => (ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : null);
const parse = (json: string | undefined): unknown => { try { return json === undefined ? null : JSON.parse(json); } catch { return null; } };

/** a dump is named on the pages by its id: the report's "directory" of the renderer */
const dirOf = (id: number | null): string | null => (id === null ? null : String(id));

/** what stands in for the report's summary of a dump not (or not yet) analysed */
function noReport(d: DumpRecord): ReportSummary {
  return {
    format: 1, path: d.path, dir: String(d.id), size: d.size, mtimeMs: 0, buildId: null, generatedAt: when(d.arrivedAt) ?? '',
    overview: null, title: d.title, analyses: [], ...(d.error ? { openError: d.error } : {}),
  };
}

export async function fleetPage(s: Storage, threshold = DEFAULT_THRESHOLD): Promise<string> {
  const [dumps, buckets, counts] = await Promise.all([s.dumps(), s.buckets(), s.sectionCounts()]);
  const byId = new Map(dumps.map((d) => [d.id, d]));
  const members = new Map<number, DumpRecord[]>();
  for (const d of dumps) if (d.bucketId !== null) members.set(d.bucketId, [...(members.get(d.bucketId) ?? []), d]);
  const data: FleetPageData = {
    generatedAt: new Date().toISOString(),
    threshold,
    dumps: dumps.map((d) => ({
      dir: String(d.id), path: d.path,
      // a dump still waiting says so where its signature's title will be
      title: d.state === 'done' ? d.title : d.state === 'queued' || d.state === 'analysing' ? `(${d.state})` : null,
      openError: d.state === 'failed' || d.state === 'rejected' ? d.error ?? d.state : null,
      ok: counts.get(d.id)?.ok ?? 0, failed: counts.get(d.id)?.failed ?? 0,
      host: d.host, release: d.kernel, crashTime: d.crashTime, bucket: d.bucketId,
    })),
    buckets: buckets.map((b) => {
      const ms = members.get(b.id) ?? [];
      return {
        id: b.id, title: b.title, kind: b.kind, guilty: b.guilty, count: b.count, files: b.files, firstCrash: b.firstCrash, lastCrash: b.lastCrash,
        hosts: b.hosts, releases: b.kernels, representative: byId.get(b.representativeId ?? -1)?.path ?? ms[0]?.path ?? '',
        members: ms.map((m) => ({ path: m.path, crashTime: m.crashTime, host: m.host, duplicateOf: m.duplicateOf === null ? null : byId.get(m.duplicateOf)?.path ?? null })),
        why: ms.map((m) => m.why ?? '').filter(Boolean),
        dirs: ms.map((m) => dirOf(m.id)),
      };
    }),
  };
  return renderFleetPage(data, {
    title: 'vaat fleet', assetBase: 'assets', dumpHref: (dir) => `dumps/${dir}`,
    indexLinks: [{ href: 'api/dumps', label: 'dumps (JSON)' }, { href: 'api/buckets', label: 'buckets (JSON)' }, { href: 'openapi.json', label: 'OpenAPI' }],
  });
}

/** the dump's page; null when there is no such dump */
export async function dumpPage(s: Storage, id: number): Promise<string | null> {
  const d = await s.dump(id);
  if (!d) return null;
  const [summary, jsons, similar, bucket] = await Promise.all([
    s.summary(id), s.sectionsJson(id), d.state === 'done' ? s.similar(id, 10) : null, d.bucketId === null ? null : s.bucket(d.bucketId),
  ]);
  const data = dumpPageData(summary ?? noReport(d), (f) => parse(jsons.get(f)));
  if (similar) {
    const titles = await Promise.all(similar.map(async (m) => (await s.dump(m.id))?.title ?? ''));
    data.similar = similar.map((m, i) => ({ path: m.path, score: m.score, duplicate: m.duplicate, exact: m.exact, reasons: m.reasons, title: titles[i], dir: dirOf(m.id) }));
  }
  data.bucket = bucket ? { id: bucket.id, title: bucket.title, size: bucket.count } : null;
  const service = kvTable([
    ['State', `<strong${d.state === 'failed' || d.state === 'rejected' ? ' class="bad"' : ''}>${esc(d.state)}</strong>${d.deadLetter ? ' (dead letter: it lost its worker on every attempt)' : ''}`],
    ['Error', d.error ? `<span class="bad">${esc(d.error)}</span>` : null],
    ['File', `<code>${esc(d.path)}</code> ${esc(d.size)} bytes${d.format ? `, ${esc(d.format)}` : ''}${d.truncated ? ', <strong class="bad">truncated</strong>' : ''}${d.incomplete ? ', written as vmcore-incomplete' : ''}`],
    ['Warnings', d.warnings.length ? d.warnings.map(esc).join('<br>') : null],
    ['Bucket', bucket ? `<a href="../#${esc(anchorId('bucket', bucket.id))}">#${esc(bucket.id)} ${esc(bucket.title)}</a>${d.duplicateOf ? `; the same crash as <a href="${esc(d.duplicateOf)}">dump ${esc(d.duplicateOf)}</a>` : ''}` : null],
    ['Why there', d.why ? esc(d.why) : null],
    ['Arrived', esc(when(d.arrivedAt))],
    ['Analysed', d.analysedAt ? `${esc(when(d.analysedAt))}${d.analysisMs !== null ? ` in ${esc(d.analysisMs)} ms` : ''} by ${esc(d.worker)} (attempt ${esc(d.attempts)})` : null],
    ['JSON', `<a href="../api/dumps/${esc(d.id)}">dump</a> · <a href="../api/similar/${esc(d.id)}">similar</a>`],
  ]);
  return renderDumpPage(data, {
    assetBase: '../assets', filesBase: `${d.id}/files/`, upHref: '../', dumpHref: (dir) => dir,
    extra: [{ id: 'service', label: 'Service', title: `Dump ${d.id} in the fleet service`, body: service }],
  });
}
