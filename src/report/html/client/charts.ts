/** Draws the page's charts with Apache ECharts (SVG renderer, aria descriptions, dark theme on demand). */
import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, AriaComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, SVGRenderer]);

export interface ChartSpec { option: Record<string, unknown>; description: string; links?: (string | null)[]; height?: number }

const drawn: { el: HTMLElement; key: string; chart: echarts.ECharts }[] = [];

function draw(el: HTMLElement, key: string, spec: ChartSpec, dark: boolean): void {
  const chart = echarts.init(el, dark ? 'dark' : undefined, { renderer: 'svg' });
  chart.setOption(spec.option as echarts.EChartsCoreOption);
  if (spec.links) {
    chart.on('click', (p) => {
      const href = spec.links?.[(p as { dataIndex: number }).dataIndex];
      if (href) location.hash = href.replace(/^#/, '');
    });
  }
  // ECharts' own aria text replaces ours: keep the description written for the page
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', spec.description);
  drawn.push({ el, key, chart });
}

export function drawCharts(specs: Record<string, ChartSpec>, dark: boolean): void {
  for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-chart]'))) {
    const key = el.dataset.chart ?? '';
    const spec = specs[key];
    if (!spec) continue;
    draw(el, key, spec, dark);
  }
}

/** the colour scheme changed: draw again in the other theme */
export function redrawCharts(specs: Record<string, ChartSpec>, dark: boolean): void {
  const old = drawn.splice(0);
  for (const d of old) { d.chart.dispose(); draw(d.el, d.key, specs[d.key], dark); }
}

export function resizeCharts(): void {
  for (const d of drawn) d.chart.resize();
}
