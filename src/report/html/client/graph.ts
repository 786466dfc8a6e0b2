/**
 * The wait-for graph: blocked tasks → what they wait on → its owner, laid out by dagre (layered,
 * left to right) and drawn as SVG. Each task node is a link to its stack; nodes and edges in a
 * deadlock cycle carry the `cycle` class.
 */
import dagre from '@dagrejs/dagre';

export interface WaitGraph {
  nodes: { id: string; label: string; kind: 'task' | 'lock' | 'wait'; href: string | null; cycle: boolean; detail: string }[];
  edges: { from: string; to: string; label: string; cycle: boolean }[];
}

const SVG = 'http://www.w3.org/2000/svg';
const CHAR_W = 7.4;

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

export function drawGraph(box: HTMLElement, g: WaitGraph): void {
  const layout = new dagre.graphlib.Graph({ multigraph: true });
  layout.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 70, marginx: 8, marginy: 8 });
  layout.setDefaultEdgeLabel(() => ({}));
  for (const n of g.nodes) layout.setNode(n.id, { width: Math.max(90, n.label.length * CHAR_W + 24), height: 34 });
  g.edges.forEach((e, i) => layout.setEdge(e.from, e.to, { label: e.label, width: e.label.length * 6.2, height: 14, labelpos: 'c' }, `e${i}`));
  dagre.layout(layout);
  const { width = 0, height = 0 } = layout.graph();

  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'waitgraph', role: 'group' });
  const title = el('title', {}, svg);
  title.textContent = box.getAttribute('aria-label') ?? 'wait-for graph';
  const defs = el('defs', {}, svg);
  for (const [id, cls] of [['arrow', 'arrow'], ['arrow-cycle', 'arrow cycle']]) {
    const m = el('marker', { id: `vaat-${id}`, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z', class: cls }, m);
  }
  g.edges.forEach((e, i) => {
    const le = layout.edge({ v: e.from, w: e.to, name: `e${i}` }) as { points: { x: number; y: number }[]; x?: number; y?: number };
    const d = le.points.map((p, j) => `${j ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    const grp = el('g', { class: `edge${e.cycle ? ' cycle' : ''}`, 'data-from': e.from, 'data-to': e.to }, svg);
    el('path', { d, 'marker-end': `url(#vaat-${e.cycle ? 'arrow-cycle' : 'arrow'})` }, grp);
    if (le.x !== undefined && le.y !== undefined) {
      const t = el('text', { x: le.x, y: le.y - 5, 'text-anchor': 'middle', class: 'edge-label' }, grp);
      t.textContent = e.label;
    }
  });
  for (const n of g.nodes) {
    const ln = layout.node(n.id);
    const parent = n.href ? el('a', { href: n.href, class: 'node-link' }, svg) : svg;
    if (n.href) {
      const t = el('title', {}, parent);
      t.textContent = `${n.label}: go to its stack`;
    }
    const grp = el('g', { class: `node ${n.kind}${n.cycle ? ' cycle' : ''}`, 'data-node': n.id, transform: `translate(${(ln.x - ln.width / 2).toFixed(1)},${(ln.y - ln.height / 2).toFixed(1)})` }, parent);
    el('rect', { width: ln.width, height: ln.height, rx: n.kind === 'task' ? 6 : 16 }, grp);
    const t = el('text', { x: ln.width / 2, y: ln.height / 2 + 4.5, 'text-anchor': 'middle' }, grp);
    t.textContent = n.label;
  }
  box.replaceChildren(svg);
}
