/**
 * JSON that streams: the same text as toJson(result) — 2-space indented — written piece by piece.
 * The top-level object and its arrays are walked here; every element of a long list is converted
 * and stringified on its own, so a 100,000-task `ps --json` never exists as one string, nor as a
 * converted copy of every row. `--jsonl` (JSON Lines) writes the elements of a command's long list
 * one compact JSON value a line, each equal to that element in `--json`.
 */

import { schemaShape, type JsonShape } from './json.js';

/** no schema: bigints as numbers when exact, else decimal strings (what toJson() writes without one) */
const plainShape: JsonShape = schemaShape();

/** pieces leave in chunks about this big */
const CHUNK = 64 * 1024;

class Chunker {
  #parts: string[] = [];
  #size = 0;
  constructor(private readonly write: (s: string) => void) {}
  push(s: string): void {
    this.#parts.push(s);
    this.#size += s.length;
    if (this.#size >= CHUNK) this.flush();
  }
  flush(): void {
    if (!this.#parts.length) return;
    this.write(this.#parts.join(''));
    this.#parts = [];
    this.#size = 0;
  }
}

/** a plain object or array, walked here; anything else (Map, toJSON, scalars) goes through the shape whole */
function walkable(v: unknown): v is Record<string, unknown> | unknown[] {
  if (Array.isArray(v)) return true;
  if (v === null || typeof v !== 'object' || v instanceof Map) return false;
  return typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

const skipped = (x: unknown): boolean => x === undefined || typeof x === 'function' || typeof x === 'symbol';

function emit(v: unknown, shape: JsonShape, indent: string, depth: number, out: Chunker): void {
  if (depth >= 2 || !walkable(v)) {
    const text = JSON.stringify(shape.value(v), null, 2) ?? 'null';
    out.push(indent ? text.replace(/\n/g, '\n' + indent) : text);
    return;
  }
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) { out.push('[]'); return; }
    const items = shape.items();
    out.push('[');
    v.forEach((e, i) => {
      out.push((i ? ',\n' : '\n') + inner);
      emit(skipped(e) ? null : e, items, inner, depth + 1, out);
    });
    out.push('\n' + indent + ']');
    return;
  }
  const entries = Object.entries(v).filter(([, x]) => !skipped(x));
  if (entries.length === 0) { out.push('{}'); return; }
  out.push('{');
  entries.forEach(([k, x], i) => {
    out.push((i ? ',\n' : '\n') + inner + JSON.stringify(k) + ': ');
    emit(x, shape.property(k), inner, depth + 1, out);
  });
  out.push('\n' + indent + '}');
}

/** `--json`: the result as toJson(result, schema) writes it, then a newline, in chunks */
export function writeJson(value: unknown, write: (s: string) => void, shape: JsonShape = plainShape): void {
  const out = new Chunker(write);
  emit(value, shape, '', 0, out);
  out.push('\n');
  out.flush();
}

/** `--jsonl`: each element of the result's list `key`, one line of compact JSON each, as `--json` has it */
export function writeJsonLines(value: unknown, key: string, write: (s: string) => void, shape: JsonShape = plainShape): void {
  const list = (value as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(list)) return;
  const items = shape.property(key).items();
  const out = new Chunker(write);
  for (const e of list) out.push(JSON.stringify(items.value(skipped(e) ? null : e)) + '\n');
  out.flush();
}
