/** The page shell every report page shares: head, skip link, section navigation, the bundled assets. */
import { esc, jsonScript, type Html } from './escape.js';

export interface PageOptions {
  title: string;
  /** URL prefix of vaat-report.js/.css: "assets" from the site root, "../assets" from a dump page */
  assetBase: string;
  /** a link back up (the fleet page), or null */
  up?: { href: string; label: string } | null;
  nav: { id: string; label: string }[];
  header: Html;
  body: Html;
  /** the data the page's scripts draw (charts, graph, task list) */
  data: unknown;
}

export const ASSET_JS = 'vaat-report.js';
export const ASSET_CSS = 'vaat-report.css';

export function page(o: PageOptions): Html {
  const a = o.assetBase.replace(/\/$/, '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="vaat">
<title>${esc(o.title)}</title>
<link rel="stylesheet" href="${esc(a)}/${ASSET_CSS}">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="page-header">
${o.up ? `<p class="up"><a href="${esc(o.up.href)}">← ${esc(o.up.label)}</a></p>` : ''}
${o.header}
</header>
<nav class="sections" aria-label="Sections"><ul>${o.nav.map((n) => `<li><a href="#${esc(n.id)}">${esc(n.label)}</a></li>`).join('')}</ul></nav>
<main id="main" tabindex="-1">
<noscript><p class="note">Charts, the wait-for graph and the task list need JavaScript; every figure is also in the tables and the linked .txt/.json files.</p></noscript>
${o.body}
</main>
<footer class="page-footer"><p>Made by vaat. Static page: it reads nothing from the network.</p></footer>
${jsonScript('vaat-data', o.data)}
<script src="${esc(a)}/${ASSET_JS}"></script>
</body>
</html>
`;
}

/** one report section: heading, links to the analysis files it comes from, content */
export function section(id: string, title: string, files: string[], body: Html, opts: { filesBase?: string } = {}): Html {
  const base = opts.filesBase ?? '';
  const links = files.length
    ? `<p class="files">From ${files.map((f) => `<a href="${esc(base + f)}.txt">${esc(f)}.txt</a> · <a href="${esc(base + f)}.json">.json</a>`).join(', ')}</p>`
    : '';
  return `<section id="${esc(id)}" aria-labelledby="${esc(id)}-h"><h2 id="${esc(id)}-h">${esc(title)}</h2>${links}${body}</section>\n`;
}

/** a chart placeholder: the script draws spec `key` of the page data's charts into it */
export function chart(key: string, description: string, height = 260): Html {
  return `<figure class="chart"><div class="chart-box" data-chart="${esc(key)}" style="height:${Math.round(height)}px" role="img" aria-label="${esc(description)}"></div><figcaption>${esc(description)}</figcaption></figure>`;
}

export function kvTable(rows: [string, Html | null | undefined][], caption?: string): Html {
  const body = rows.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${v}</td></tr>`).join('');
  return `<table class="kv">${caption ? `<caption>${esc(caption)}</caption>` : ''}<tbody>${body}</tbody></table>`;
}

/** a table from rows of already-escaped cells */
export function table(header: string[], rows: Html[][], opts: { caption?: string; numeric?: number[]; cls?: string } = {}): Html {
  if (rows.length === 0) return '<p class="none">(none)</p>';
  const num = new Set(opts.numeric ?? []);
  const th = header.map((h, i) => `<th scope="col"${num.has(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${num.has(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table-wrap"><table class="${esc(opts.cls ?? 'data')}">${opts.caption ? `<caption>${esc(opts.caption)}</caption>` : ''}<thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table></div>`;
}
