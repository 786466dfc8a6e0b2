/** The report pages' script: reads the page's embedded data and draws charts, the graph and the task list. */
import './report.css';
import { drawCharts, redrawCharts, resizeCharts, type ChartSpec } from './charts';
import { drawGraph, type WaitGraph } from './graph';
import { mountTaskList, type TaskData } from './tasklist';

interface PageData { kind: 'dump' | 'fleet'; charts?: Record<string, ChartSpec>; graph?: WaitGraph | null; tasks?: TaskData | null }

function readData(): PageData | null {
  const el = document.getElementById('vaat-data');
  if (!el?.textContent) return null;
  return JSON.parse(el.textContent) as PageData;
}

function start(): void {
  const data = readData();
  if (!data) return;
  const scheme = window.matchMedia('(prefers-color-scheme: dark)');
  const charts = data.charts ?? {};
  drawCharts(charts, scheme.matches);
  scheme.addEventListener('change', () => redrawCharts(charts, scheme.matches));
  let t = 0;
  window.addEventListener('resize', () => { clearTimeout(t); t = window.setTimeout(resizeCharts, 100); });

  const gbox = document.querySelector<HTMLElement>('[data-graph=waits]');
  if (gbox && data.graph) drawGraph(gbox, data.graph);

  const tl = document.querySelector<HTMLElement>('[data-tasklist]');
  if (tl && data.tasks) mountTaskList(tl, data.tasks);

  // the log box starts at the panic, not at boot (the page itself does not scroll)
  const log = document.querySelector<HTMLElement>('ol.log');
  const panicLine = log?.querySelector<HTMLElement>('.panic-line, .oops-line');
  if (log && panicLine) log.scrollTop = Math.max(0, panicLine.offsetTop - log.offsetTop - 120);

  // "expand/collapse all" buttons
  document.querySelectorAll<HTMLButtonElement>('[data-toggle]').forEach((b) => b.addEventListener('click', () => {
    const ds = Array.from(document.querySelectorAll<HTMLDetailsElement>(b.dataset.toggle ?? ''));
    const open = ds.some((d) => !d.open);
    ds.forEach((d) => { d.open = open; });
  }));
  // a link to something inside a closed <details> opens it
  const openTarget = (): void => {
    const id = decodeURIComponent(location.hash.slice(1));
    const target = id ? document.getElementById(id) : null;
    for (let e: HTMLElement | null = target; e; e = e.parentElement) if (e instanceof HTMLDetailsElement) e.open = true;
    target?.scrollIntoView();
  };
  window.addEventListener('hashchange', openTarget);
  if (location.hash) openTarget();
  // print everything: open every collapsed section, size charts for the page
  window.addEventListener('beforeprint', () => { document.querySelectorAll('details').forEach((d) => { d.open = true; }); resizeCharts(); });
  document.documentElement.classList.add('js');
  // when the page was fully drawn (ms after navigation start): tests and bench/html.mjs read it
  document.documentElement.dataset.ready = String(Math.round(performance.now()));
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
