/**
 * The fleet page: every dump of a report set, the triage buckets over them (title, count,
 * first/last crash, hosts, kernels, why grouped, links to each member's page) with crashes per
 * bucket over time, and the hosts and kernels with the most crashes.
 */
import type { ChartSpec } from './charts.js';
import { binWidth, simpleBars, stackedBars } from './charts.js';
import type { FleetPageData } from './data.js';
import { anchorId, esc, urlPart, type Html } from './escape.js';
import { chart, page, section, table } from './layout.js';

export interface FleetPageOptions {
  /** URL prefix of the shared assets (default "assets") */
  assetBase?: string;
  /** URL of a dump's page from its report directory name (default "DIR/index.html") */
  dumpHref?: (dir: string) => string;
  /** the machine-readable listings linked under the dump table (default index.txt and index.json) */
  indexLinks?: { href: string; label: string }[];
  /** a title other than "vaat report" (the fleet service names itself) */
  title?: string;
}

export interface FleetClientData { kind: 'fleet'; charts: Record<string, ChartSpec> }

const name = (p: string): string => p.split('/').slice(-2).join('/');

function countBy<T>(xs: readonly T[], key: (x: T) => string[]): [string, number][] {
  const m = new Map<string, number>();
  for (const x of xs) for (const k of key(x)) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** crashes per bucket per time bin; null when no crash has a time */
function overTime(d: FleetPageData): ChartSpec | null {
  const points = d.buckets.flatMap((b) => b.members.filter((m) => !m.duplicateOf && m.crashTime).map((m) => ({ b, t: Date.parse(m.crashTime!) / 1000 })))
    .filter((p) => Number.isFinite(p.t));
  if (!points.length) return null;
  const t0 = Math.min(...points.map((p) => p.t));
  const t1 = Math.max(...points.map((p) => p.t));
  const w = binWidth(Math.max(t1 - t0, 60), 40);
  const start = Math.floor(t0 / w) * w;
  const nb = Math.floor((t1 - start) / w) + 1;
  const fmt = (s: number): string => new Date(s * 1000).toISOString().replace('T', ' ').slice(0, w >= 86400 ? 10 : 16);
  const shown = d.buckets.slice(0, 12);
  const series = shown.map((b) => ({ name: `#${b.id} ${b.title}`.slice(0, 60), data: new Array<number>(nb).fill(0) }));
  const other = { name: 'other buckets', data: new Array<number>(nb).fill(0) };
  for (const p of points) {
    const i = Math.min(nb - 1, Math.floor((p.t - start) / w));
    const k = shown.indexOf(p.b);
    (k >= 0 ? series[k] : other).data[i]++;
  }
  if (other.data.some((x) => x)) series.push(other);
  return stackedBars({
    categories: Array.from({ length: nb }, (_, i) => fmt(start + i * w)), series, yName: 'crashes', height: 320,
    description: `Crashes per triage bucket over time (UTC, ${w >= 86400 ? `${w / 86400}-day` : w >= 3600 ? `${w / 3600}-hour` : `${w / 60}-minute`} bins), ${points.length} crashes with a known time from ${fmt(t0)} to ${fmt(t1)}.`,
  });
}

export function renderFleetPage(d: FleetPageData, opts: FleetPageOptions = {}): Html {
  const assetBase = opts.assetBase ?? 'assets';
  const href = opts.dumpHref ?? ((dir: string) => `${urlPart(dir)}/index.html`);
  const indexLinks = opts.indexLinks ?? [{ href: 'index.txt', label: 'index.txt' }, { href: 'index.json', label: 'index.json' }];
  const name0 = opts.title ?? 'vaat report';
  const charts: Record<string, ChartSpec> = {};
  const dumpLink = (dir: string | null, path: string): Html => (dir ? `<a href="${esc(href(dir))}">${esc(name(path))}</a>` : esc(name(path)));

  const t = overTime(d);
  if (t) charts.time = t;
  const hosts = countBy(d.buckets.flatMap((b) => b.members.filter((m) => !m.duplicateOf)), (m) => [m.host ?? 'unknown host']).slice(0, 15);
  const kernels = countBy(d.dumps.filter((x) => !x.openError), (x) => [x.release ?? 'unknown kernel']).slice(0, 15);
  if (hosts.length) {
    charts.hosts = simpleBars({
      categories: hosts.map(([h]) => h), values: hosts.map(([, n]) => n), name: 'crashes', horizontal: true, height: 60 + hosts.length * 26,
      description: `Hosts with the most crashes: ${hosts.slice(0, 8).map(([h, n]) => `${h} ${n}`).join(', ')}.`,
    });
  }
  if (kernels.length) {
    charts.kernels = simpleBars({
      categories: kernels.map(([k]) => k), values: kernels.map(([, n]) => n), name: 'dumps', horizontal: true, height: 60 + kernels.length * 26,
      description: `Kernels with the most dumps: ${kernels.slice(0, 8).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
    });
  }

  const bucketRows = d.buckets.map((b) => [
    `<a href="#${esc(anchorId('bucket', b.id))}">#${esc(b.id)}</a>`, esc(b.title), esc(b.count) + (b.files > b.count ? ` <span class="dim">(+${b.files - b.count} dup)</span>` : ''),
    esc(b.firstCrash ?? '?'), esc(b.lastCrash ?? '?'), esc(b.hosts.join(', ')), esc(b.releases.join(', ')),
  ]);
  const bucketDetails = d.buckets.map((b) => `<details class="bucket" id="${esc(anchorId('bucket', b.id))}"${d.buckets.length <= 10 ? ' open' : ''}><summary><strong>#${esc(b.id)}</strong> ${esc(b.title)} — ${esc(b.count)} crash${b.count === 1 ? '' : 'es'}</summary>`
    + `<p>${esc(b.kind)}${b.guilty ? `, guilty frame <code>${esc(b.guilty)}</code>` : ''}; representative ${dumpLink(b.dirs[b.members.findIndex((m) => m.path === b.representative)] ?? null, b.representative)}</p>`
    + `<ul class="members">${b.members.map((m, i) => `<li>${dumpLink(b.dirs[i], m.path)} <span class="dim">${esc(m.crashTime ?? '?')} ${esc(m.host ?? '')}</span>${m.duplicateOf ? ` <span class="badge">duplicate of ${esc(name(m.duplicateOf))}</span>` : ''}</li>`).join('')}</ul>`
    + `<h4>Why grouped</h4><ul class="why">${b.why.filter(Boolean).map((w) => `<li>${esc(w)}</li>`).join('')}</ul></details>`).join('\n');

  const dumpRows = d.dumps.map((x) => [
    x.openError ? esc(name(x.path)) : `<a href="${esc(href(x.dir))}">${esc(name(x.path))}</a>`,
    x.openError ? `<strong class="bad">not opened: ${esc(x.openError)}</strong>` : esc(x.title ?? '?'),
    x.bucket !== null ? `<a href="#${esc(anchorId('bucket', x.bucket))}">#${esc(x.bucket)}</a>` : '',
    esc(x.host ?? ''), esc(x.release ?? ''), esc(x.crashTime ?? ''), `${esc(x.ok)}${x.failed ? ` <span class="bad">(${esc(x.failed)} failed)</span>` : ''}`,
  ]);
  const crashes = d.buckets.reduce((n, b) => n + b.count, 0);
  const header = `<h1>${esc(name0)}: ${esc(d.dumps.length)} dump${d.dumps.length === 1 ? '' : 's'}, ${esc(d.buckets.length)} bucket${d.buckets.length === 1 ? '' : 's'}</h1><p class="sub">${esc(crashes)} distinct crashes · triage threshold ${esc(d.threshold)} · generated ${esc(d.generatedAt)}</p>`;
  const body = [
    section('buckets', 'Triage buckets', [], (t ? chart('time', t.description, t.height) : '<p class="dim">No crash time known: no chart over time.</p>')
      + table(['BUCKET', 'TITLE', 'CRASHES', 'FIRST', 'LAST', 'HOSTS', 'KERNELS'], bucketRows, { numeric: [2] }) + bucketDetails),
    section('affected', 'Most affected', [], `<div class="two">${charts.hosts ? chart('hosts', charts.hosts.description, charts.hosts.height) : ''}${charts.kernels ? chart('kernels', charts.kernels.description, charts.kernels.height) : ''}</div>`
      + `<div class="two">${table(['HOST', 'CRASHES'], hosts.map(([h, n]) => [esc(h), esc(n)]), { numeric: [1] })}${table(['KERNEL', 'DUMPS'], kernels.map(([k, n]) => [esc(k), esc(n)]), { numeric: [1] })}</div>`),
    section('dumps', 'All dumps', [], table(['DUMP', 'SIGNATURE', 'BUCKET', 'HOST', 'KERNEL', 'CRASHED', 'ANALYSES'], dumpRows) + `<p>${indexLinks.map((l) => `<a href="${esc(l.href)}">${esc(l.label)}</a>`).join(' · ')}</p>`),
  ].join('\n');
  const data: FleetClientData = { kind: 'fleet', charts };
  return page({
    title: `${name0}: ${d.dumps.length} dumps`, assetBase, up: null,
    nav: [{ id: 'buckets', label: 'Buckets' }, { id: 'affected', label: 'Most affected' }, { id: 'dumps', label: 'All dumps' }], header, body, data,
  });
}
