/**
 * Output: what a command's render() writes to. One sink renders key/value blocks, aligned tables
 * (the `table` package), trees drawn with box characters, and headings, with colour only when
 * appropriate. Commands never write to stdout themselves.
 *
 * Given a `write` target the text streams: it leaves in chunks of about 64 KiB as it is rendered,
 * tables row by row with column widths measured first, so a 100,000-row table is never one string.
 * Without one, text() returns everything (the session, reports, tests).
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

/**
 * A table's rows: an array, or a function giving them afresh each time it is called (a generator
 * over the result), so a long table is walked twice — widths, then text — without a second copy.
 */
export type Rows = readonly Cell[][] | (() => Iterable<Cell[]>);

export interface OutputOptions {
  plain?: boolean;
  stream?: { isTTY?: boolean };
  /** where text goes as it is rendered; without it, text() returns it all */
  write?: (chunk: string) => void;
}

/** text leaves a streaming Output in chunks about this big */
const CHUNK = 64 * 1024;

/** Text for people: lines, aligned tables, key/value blocks and trees, coloured only on a terminal (NO_COLOR respected), dump strings shown with control characters escaped. */
export class Output {
  readonly c: ChalkInstance;
  #chunks: string[] = [];
  #pending = 0;
  #colour: boolean;
  #write: ((chunk: string) => void) | null;

  constructor(opts: OutputOptions = {}) {
    this.c = makeChalk(opts.stream ?? process.stdout, opts.plain);
    this.#colour = this.c.level > 0;
    this.#write = opts.write ?? null;
  }

  #push(text: string): void {
    this.#chunks.push(text);
    this.#pending += text.length;
    if (this.#write && this.#pending >= CHUNK) this.flush();
  }

  /** hand what is buffered to the write target (a no-op without one) */
  flush(): void {
    if (!this.#write || this.#chunks.length === 0) return;
    const text = this.#chunks.join('');
    this.#chunks = [];
    this.#pending = 0;
    this.#write(text);
  }

  /**
   * Every text a render writes goes through here: strings from the dump arrive raw (the model
   * keeps them exact for --json) and leave with their control characters escaped (src/output/sanitize.ts).
   */
  #safe(text: string, newlines: boolean): string {
    return sanitizeForDisplay(text, { newlines, colour: this.#colour });
  }

  /** a table cell's text for the terminal; numbers and plain printable ASCII (nearly every cell) need no escaping */
  #cell(v: Cell): string {
    this.#plainCell = true;
    if (typeof v === 'number') return String(v);
    const t = cellText(v);
    if (PRINTABLE.test(t)) return t;
    this.#plainCell = false;
    return this.#safe(t, false);
  }
  /** the last #cell() was a number or printable ASCII: as wide as it is long, one line (spares the width pass a second test) */
  #plainCell = true;

  line(text = ''): void { this.#push(this.#safe(text, true) + '\n'); }
  heading(text: string): void { this.line(this.c.bold(text)); }

  /** "KEY: value" lines with the keys right-aligned, as crash's `sys` prints them */
  kv(pairs: [string, Cell][], indent = 2): void {
    const w = Math.max(0, ...pairs.map(([k]) => k.length));
    for (const [k, v] of pairs) this.line(' '.repeat(indent) + this.c.cyan(k.padStart(w)) + ': ' + this.#safe(cellText(v), false));
  }

  table(rows: Rows, opts: TableOptions): void {
    const each = typeof rows === 'function' ? rows : () => rows;
    const header = opts.header.map((h) => this.c.bold(h));
    const right = new Set(opts.alignRight ?? []);
    // Pass 1: column widths (and whether any cell spans lines). The first KEEP_CELLS rows' cell
    // texts and widths are kept for pass 2, which then only pads them: rendering each cell twice
    // was half of `ps` on 20,000 tasks. Past that, pass 2 renders the rows again, so a table of
    // any length holds at most KEEP_CELLS rows of text.
    const widths = header.map(displayWidth);
    let n = 0;
    let multiLine = false;
    const kept = new KeptCells();
    let keeping = true;
    for (const r of each()) {
      n++;
      if (keeping && n > KEEP_CELLS) { keeping = false; kept.clear(); }
      for (let i = 0; i < r.length; i++) {
        const t = this.#cell(r[i]);
        const plain = this.#plainCell;
        if (!plain && t.includes('\n')) multiLine = true;
        const w = plain ? t.length : displayWidth(t);
        if (!(w <= widths[i])) widths[i] = w;
        if (keeping) kept.push(t, w);
      }
      if (keeping) kept.push(ROW_END, 0);
    }
    if (n === 0) { this.line(this.c.dim('(none)')); return; }
    // Single-line cells (nearly every table) are padded here, row by row: the same text as the
    // table package draws, ~100× faster, and streamed. Multi-line cells keep the package's layout.
    if (!multiLine) {
      this.#push(alignedRow(header, widths, right));
      if (keeping) {
        let line = '';
        let col = 0;
        for (let k = 0; k < kept.length; k++) {
          const t = kept.text(k);
          if (t === ROW_END) { this.#push(trimEnd(line) + '\n'); line = ''; col = 0; continue; }
          line += padCell(t, kept.width(k), widths[col], right.has(col), col > 0);
          col++;
        }
        return;
      }
      const cells: string[] = [];
      for (const r of each()) {
        cells.length = r.length;
        for (let i = 0; i < r.length; i++) cells[i] = this.#cell(r[i]);
        this.#push(alignedRow(cells, widths, right));
      }
      return;
    }
    const data = [header, ...Array.from(each(), (r) => r.map((v) => this.#cell(v)))];
    this.#push(table(data, {
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

  /** everything rendered (without a write target), or what is not yet flushed to it */
  text(): string { return this.#chunks.join(''); }
}

function cellText(v: Cell): string {
  if (v === null || v === undefined) return '-';
  return String(v);
}

export { toJson } from './json.js';

/** columns a cell takes on a terminal: printable ASCII (most cells) is as wide as it is long; string-width for colour and wide characters */
const PRINTABLE = /^[\x20-\x7e]*$/;
function displayWidth(c: string): number {
  return PRINTABLE.test(c) ? c.length : stringWidth(c);
}

/** rows whose cell texts a table keeps between its two passes (see table()) */
const KEEP_CELLS = 50_000;

/**
 * Pass 1's kept cells (texts and display widths), appended in fixed-size chunks: one array grown
 * by push to 200,000 cells was copied into fresh memory at every growth, ~30 ms of first-touch
 * page faults in `ps` on 20,000 tasks under a hypervisor.
 */
class KeptCells {
  static readonly #SHIFT = 13;
  static readonly #SIZE = 1 << KeptCells.#SHIFT;
  #text: string[][] = [];
  #width: Uint32Array[] = [];
  #n = 0;

  get length(): number { return this.#n; }
  push(text: string, width: number): void {
    const i = this.#n & (KeptCells.#SIZE - 1);
    if (i === 0) { this.#text.push(new Array<string>(KeptCells.#SIZE)); this.#width.push(new Uint32Array(KeptCells.#SIZE)); }
    const c = this.#n >> KeptCells.#SHIFT;
    this.#text[c][i] = text;
    this.#width[c][i] = width;
    this.#n++;
  }
  text(k: number): string { return this.#text[k >> KeptCells.#SHIFT][k & (KeptCells.#SIZE - 1)]; }
  width(k: number): number { return this.#width[k >> KeptCells.#SHIFT][k & (KeptCells.#SIZE - 1)]; }
  clear(): void { this.#text = []; this.#width = []; this.#n = 0; }
}
/** marks the end of a row among the kept cells (no cell text is a lone NUL: #cell escapes it) */
const ROW_END = '\0';

/** a cell of text width `w` padded to its column's width, after the 2-space gap when not the first */
function padCell(c: string, w: number, width: number, right: boolean, gap: boolean): string {
  const pad = width - w;
  const spaces = pad > 0 ? ' '.repeat(pad) : '';
  return (gap ? '  ' : '') + (right ? spaces + c : c + spaces);
}

/** one row of single-line cells in columns of the given widths, 2 spaces apart, no trailing blanks */
function alignedRow(cells: readonly string[], widths: readonly number[], right: ReadonlySet<number>): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += padCell(cells[i], displayWidth(cells[i]), widths[i], right.has(i), i > 0);
  return trimEnd(line) + '\n';
}

/** without trailing spaces (a plain loop: a / +$/ regex scans the whole line from every space) */
function trimEnd(s: string): string {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === 32) e--;
  return e === s.length ? s : s.slice(0, e);
}
