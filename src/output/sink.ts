/**
 * Output: what a command's render() writes to. One sink renders key/value blocks, aligned tables
 * (the `table` package), trees drawn with box characters, and headings, with colour only when
 * appropriate. Commands never write to stdout themselves.
 */
import { table, getBorderCharacters } from 'table';
import stringWidth from 'string-width';
import type { ChalkInstance } from 'chalk';
import { makeChalk } from './style.js';
import { sanitizeForDisplay } from './sanitize.js';

/** One node of a tree Output.tree() draws: its label and children. */
export interface TreeNode {
  label: string;
  children?: TreeNode[];
}

export type Cell = string | number | bigint | boolean | null | undefined;

export interface TableOptions {
  /** column headers */
  header: string[];
  /** right-align these columns (numbers) */
  alignRight?: number[];
}

/** Text for people: lines, aligned tables, key/value blocks and trees, coloured only on a terminal (NO_COLOR respected), dump strings shown with control characters escaped. */
export class Output {
  readonly c: ChalkInstance;
  #chunks: string[] = [];
  #colour: boolean;

  constructor(opts: { plain?: boolean; stream?: { isTTY?: boolean } } = {}) {
    this.c = makeChalk(opts.stream ?? process.stdout, opts.plain);
    this.#colour = this.c.level > 0;
  }

  /**
   * Every text a render writes goes through here: strings from the dump arrive raw (the model
   * keeps them exact for --json) and leave with their control characters escaped (src/output/sanitize.ts).
   */
  #safe(text: string, newlines: boolean): string {
    return sanitizeForDisplay(text, { newlines, colour: this.#colour });
  }

  line(text = ''): void { this.#chunks.push(this.#safe(text, true) + '\n'); }
  heading(text: string): void { this.line(this.c.bold(text)); }

  /** "KEY: value" lines with the keys right-aligned, as crash's `sys` prints them */
  kv(pairs: [string, Cell][], indent = 2): void {
    const w = Math.max(0, ...pairs.map(([k]) => k.length));
    for (const [k, v] of pairs) this.line(' '.repeat(indent) + this.c.cyan(k.padStart(w)) + ': ' + this.#safe(cellText(v), false));
  }

  table(rows: Cell[][], opts: TableOptions): void {
    if (rows.length === 0) { this.line(this.c.dim('(none)')); return; }
    const data = [opts.header.map((h) => this.c.bold(h)), ...rows.map((r) => r.map((v) => this.#safe(cellText(v), false)))];
    const right = new Set(opts.alignRight ?? []);
    // Single-line cells (nearly every table) are padded here: the same text as the table
    // package draws, ~100× faster on a few hundred rows, which a session answering in
    // milliseconds needs. Multi-line cells keep the package's layout.
    if (!data.some((r) => r.some((c) => c.includes('\n')))) { this.#chunks.push(alignedRows(data, right)); return; }
    this.#chunks.push(table(data, {
      border: getBorderCharacters('void'),
      columnDefault: { paddingLeft: 0, paddingRight: 2 },
      columns: Object.fromEntries(opts.header.map((_, i) => [i, { alignment: right.has(i) ? 'right' : 'left' }])),
      drawHorizontalLine: () => false,
    }).replace(/ +\n/g, '\n'));
  }

  tree(root: TreeNode): void {
    this.line(this.#safe(root.label, false));
    const walk = (nodes: TreeNode[], prefix: string) => {
      nodes.forEach((n, i) => {
        const last = i === nodes.length - 1;
        this.line(prefix + (last ? '└── ' : '├── ') + this.#safe(n.label, false));
        if (n.children?.length) walk(n.children, prefix + (last ? '    ' : '│   '));
      });
    };
    walk(root.children ?? [], '');
  }

  text(): string { return this.#chunks.join(''); }
}

function cellText(v: Cell): string {
  if (v === null || v === undefined) return '-';
  return String(v);
}

export { toJson } from './json.js';

/** rows of single-line cells in columns as wide as their widest cell (as shown), 2 spaces apart, no trailing blanks */
function alignedRows(data: string[][], right: ReadonlySet<number>): string {
  const widths: number[] = [];
  const cellWidths = data.map((r) => r.map((c, i) => {
    // printable ASCII (most cells) is as wide as it is long; string-width for colour and wide characters
    const w = /^[\x20-\x7e]*$/.test(c) ? c.length : stringWidth(c);
    widths[i] = Math.max(widths[i] ?? 0, w);
    return w;
  }));
  return data.map((r, ri) => r.map((c, i) => {
    const pad = ' '.repeat(widths[i] - cellWidths[ri][i]);
    return (right.has(i) ? pad + c : c + pad) + '  ';
  }).join('').replace(/ +$/, '') + '\n').join('');
}
