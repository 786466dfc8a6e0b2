/**
 * The service's HTML pages, drawn from the database on each request. Deliberately plain: the
 * fleet and per-dump pages are a thin layer that the HTML report renderer replaces when it
 * lands; everything here is also in the JSON API.
 */
import type { BucketRecord, DumpRecord, SectionRecord, Stats } from './storage.js';

/** text into HTML: escapes markup and drops control characters a hostile dump could carry */
export function esc(v: unknown): string {
  return String(v ?? '-')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

const page = (title: string, body: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} — vaat</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}td,th{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
pre{background:#f6f6f6;padding:.8em;overflow:auto}.bad{color:#b00}.dim{color:#777}</style></head>
<body><p class="dim"><a href="/">fleet</a> · <a href="/api/buckets">JSON</a> · <a href="/openapi.json">API</a></p><h1>${esc(title)}</h1>
${body}</body></html>`;

const when = (ms: number | null): string => (ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

function dumpRows(dumps: readonly DumpRecord[]): string {
  return `<table><tr><th>ID</th><th>STATE</th><th>VMCORE</th><th>HOST</th><th>CRASH TIME</th><th>NOTE</th></tr>
${dumps.map((d) => `<tr><td><a href="/dumps/${d.id}">${d.id}</a></td><td${d.state === 'failed' || d.state === 'rejected' ? ' class="bad"' : ''}>${esc(d.state)}</td>
<td>${esc(d.path)}</td><td>${esc(d.host)}</td><td>${esc(d.crashTime)}</td>
<td>${[d.truncated ? 'truncated' : '', d.incomplete ? 'incomplete' : '', d.duplicateOf ? `copy of <a href="/dumps/${d.duplicateOf}">#${d.duplicateOf}</a>` : '', d.error ? esc(d.error) : ''].filter(Boolean).join('; ')}</td></tr>`).join('\n')}</table>`;
}

export function fleetPage(buckets: readonly BucketRecord[], others: readonly DumpRecord[], stats: Stats): string {
  const counts = Object.entries(stats.byState).map(([k, v]) => `${v} ${esc(k)}`).join(', ') || 'no dumps yet';
  return page('Fleet', `<p>${counts}; ${stats.buckets} buckets</p>
<table><tr><th>BUCKET</th><th>CRASHES</th><th>FILES</th><th>TITLE</th><th>HOSTS</th><th>KERNELS</th><th>FIRST</th><th>LAST</th></tr>
${buckets.map((b) => `<tr><td><a href="/buckets/${b.id}">#${b.id}</a></td><td>${b.count}</td><td>${b.files}</td><td>${esc(b.title)}</td>
<td>${esc(b.hosts.join(', '))}</td><td>${esc(b.kernels.join(', '))}</td><td>${esc(b.firstCrash)}</td><td>${esc(b.lastCrash)}</td></tr>`).join('\n')}</table>
${others.length ? `<h2>Not in a bucket</h2>${dumpRows(others)}` : ''}`);
}

export function bucketPage(b: BucketRecord, members: readonly DumpRecord[]): string {
  return page(`Bucket #${b.id}: ${b.title}`, `<p>${b.count} crashes in ${b.files} files; guilty frame ${esc(b.guilty)}; kernels ${esc(b.kernels.join(', '))}</p>
${dumpRows(members)}
<h2>Why together</h2><ul>${members.map((m) => `<li>${esc(m.why)}</li>`).join('')}</ul>`);
}

export function dumpPage(d: DumpRecord, sections: readonly Omit<SectionRecord, 'json' | 'text'>[]): string {
  const kv: [string, unknown][] = [
    ['path', d.path], ['state', d.state], ['error', d.error], ['format', d.format], ['size', d.size], ['truncated', d.truncated], ['incomplete', d.incomplete],
    ['title', d.title], ['guilty frame', d.guilty], ['host', d.host], ['kernel', d.kernel], ['crash time', d.crashTime],
    ['arrived', when(d.arrivedAt)], ['analysed', when(d.analysedAt)], ['analysis', d.analysisMs === null ? null : `${d.analysisMs} ms by ${d.worker}`],
    ['why in its bucket', d.why],
  ];
  return page(`Dump #${d.id}`, `<table>${kv.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${k === 'state' && d.bucketId ? `${esc(v)} in <a href="/buckets/${d.bucketId}">bucket #${d.bucketId}</a>` : esc(v)}</td></tr>`).join('')}</table>
${d.warnings.length ? `<p class="bad">${d.warnings.map(esc).join('<br>')}</p>` : ''}
<h2>Report</h2><ul>${sections.map((s) => `<li><a href="/dumps/${d.id}/report/${encodeURIComponent(s.name)}">${esc(s.name)}</a> (${esc(s.command)})${s.ok ? '' : ` <span class="bad">${esc(s.error)}</span>`}
 · <a href="/api/dumps/${d.id}/report/${encodeURIComponent(s.name)}">JSON</a></li>`).join('')}</ul>
<p><a href="/api/similar/${d.id}">similar dumps</a> · <a href="/api/dumps/${d.id}">JSON</a></p>`);
}

export function sectionPage(d: DumpRecord, s: SectionRecord): string {
  return page(`Dump #${d.id}: ${s.name}`, s.ok ? `<pre>${esc(s.text ?? '')}</pre>` : `<p class="bad">${esc(s.error)}</p>`);
}
