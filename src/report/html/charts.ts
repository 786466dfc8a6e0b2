/**
 * ECharts options for the pages' charts, built here as plain JSON from the report data: the
 * browser bundle only hands them to echarts.init() (SVG renderer, aria on). Each chart carries a
 * one-sentence description that is both the chart's accessible name and its caption; the figures
 * themselves are also in the tables next to each chart.
 */

export interface ChartSpec {
  /** the ECharts option: JSON only, no functions */
  option: Record<string, unknown>;
  /** what the chart shows, in words (the text alternative) */
  description: string;
  /** per data index of the first series: a fragment to go to when the bar is clicked */
  links?: (string | null)[];
  /** CSS height */
  height?: number;
}

const baseAxis = { axisLabel: { hideOverlap: true } };

function withAria(spec: ChartSpec): ChartSpec {
  // tooltips drawn as chart text, not HTML: category names are dump strings (task names, cgroup paths)
  spec.option.tooltip = { ...(spec.option.tooltip as object), renderMode: 'richText' };
  spec.option.aria = { enabled: true, label: { description: spec.description } };
  spec.option.animation = false;
  spec.option.backgroundColor = 'transparent';
  return spec;
}

export function stackedBars(opts: {
  categories: string[];
  series: { name: string; data: number[]; color?: string }[];
  description: string;
  yName?: string;
  horizontal?: boolean;
  links?: (string | null)[];
  height?: number;
}): ChartSpec {
  const cat = { type: 'category', data: opts.categories, ...baseAxis };
  const val = { type: 'value', name: opts.yName ?? '', minInterval: 1 };
  return withAria({
    description: opts.description,
    links: opts.links,
    height: opts.height,
    option: {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 8, right: 16, top: 52, bottom: 8, containLabel: true },
      xAxis: opts.horizontal ? val : cat,
      yAxis: opts.horizontal ? { ...cat, inverse: true } : val,
      series: opts.series.map((s) => ({ type: 'bar', name: s.name, stack: 'all', data: s.data, emphasis: { focus: 'series' }, ...(s.color ? { itemStyle: { color: s.color } } : {}) })),
    },
  });
}

export function simpleBars(opts: {
  categories: string[];
  values: number[];
  name: string;
  description: string;
  yName?: string;
  horizontal?: boolean;
  links?: (string | null)[];
  height?: number;
  /** data indexes drawn in the warning colour */
  mark?: number[];
}): ChartSpec {
  const mark = new Set(opts.mark ?? []);
  const data = opts.values.map((v, i) => (mark.has(i) ? { value: v, itemStyle: { color: '#d9534f' } } : v));
  const cat = { type: 'category', data: opts.categories, ...baseAxis };
  const val = { type: 'value', name: opts.yName ?? '' };
  return withAria({
    description: opts.description,
    links: opts.links,
    height: opts.height,
    option: {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 24, top: 28, bottom: 8, containLabel: true },
      xAxis: opts.horizontal ? val : cat,
      yAxis: opts.horizontal ? { ...cat, inverse: true } : val,
      series: [{ type: 'bar', name: opts.name, data, label: { show: true, position: opts.horizontal ? 'right' : 'top' } }],
    },
  });
}

/** use drawn over its limit: the limit a pale full-length bar, the use a solid bar on top of it */
export function pairedBars(opts: {
  categories: string[];
  a: { name: string; data: (number | null)[] };
  b: { name: string; data: (number | null)[] };
  description: string;
  xName: string;
  height?: number;
}): ChartSpec {
  return withAria({
    description: opts.description,
    height: opts.height,
    option: {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'value', name: opts.xName },
      yAxis: { type: 'category', data: opts.categories, inverse: true, ...baseAxis },
      series: [
        { type: 'bar', name: opts.b.name, data: opts.b.data, itemStyle: { opacity: 0.35 }, barGap: '-100%', z: 1 },
        { type: 'bar', name: opts.a.name, data: opts.a.data, barGap: '-100%', z: 2, label: { show: true, position: 'right' } },
      ],
    },
  });
}

/** an automatic bin width for a span of seconds: the smallest "round" width giving ≤ maxBins bins */
export function binWidth(spanSeconds: number, maxBins = 60): number {
  const widths = [0.001, 0.01, 0.1, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400];
  return widths.find((w) => spanSeconds / w <= maxBins) ?? widths[widths.length - 1];
}
