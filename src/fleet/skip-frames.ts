/**
 * The skip list of crash signatures: stack frames that are generic plumbing (panic, printk,
 * exception entry, scheduler, lock slow paths...) and say nothing about which bug a crash is.
 * It is a data file people edit (data/skip-frames.txt): one regex per line, '#' comments.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';

export interface SkipList {
  /** where the list came from */
  source: string;
  patterns: RegExp[];
  skips(fn: string): boolean;
}

/** `vaat_parse_request.constprop.0.isra.0` → `vaat_parse_request`: compiler clones are one function */
export function baseFunction(fn: string): string {
  return fn.replace(/(\.(constprop|isra|part|cold|llvm|lto_priv)(\.\d+)?)+$/, '').replace(/\.\d+$/, '');
}

export function parseSkipList(text: string, source: string): SkipList {
  const patterns: RegExp[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    try { patterns.push(new RegExp(`^(?:${line})$`)); } catch (e) {
      throw new Error(`${source}:${i + 1}: bad pattern: ${(e as Error).message}`);
    }
  });
  return { source, patterns, skips: (fn) => { const b = baseFunction(fn); return patterns.some((p) => p.test(b)); } };
}

/** the packaged list, data/skip-frames.txt at the package root */
export function defaultSkipFile(): string {
  const root = packageRoot();
  const found = root ? join(root, 'data', 'skip-frames.txt') : null;
  if (!found || !existsSync(found)) throw new Error(`data/skip-frames.txt not found in the vaat package (${root ?? 'root not found'})`);
  return found;
}

const cache = new Map<string, SkipList>();

/** the list in `file`, else VAAT_SKIP_FRAMES, else the packaged one; parsed once per process */
export function loadSkipList(file?: string): SkipList {
  const path = file ?? process.env.VAAT_SKIP_FRAMES ?? defaultSkipFile();
  let l = cache.get(path);
  if (!l) { l = parseSkipList(readFileSync(path, 'utf8'), path); cache.set(path, l); }
  return l;
}
