/**
 * Watching crash directories for new dumps. inotify (through chokidar) tells us as files appear
 * and change; a walk of every directory at start-up finds what arrived while the service was
 * down, and again every `rescanMs` for file systems that send no events (NFS). A file is handed
 * over once it is complete: unchanged (size, mtime, inode) for `settleMs` — kdump renames
 * `vmcore-incomplete` to `vmcore` when it finishes, and a `vmcore-incomplete` that stays is taken
 * only after `incompleteAfterMs`, as an incomplete capture.
 */
import { statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { isIncompleteName, probeFile, walkFiles } from '../fleet/discover.js';
import type { Arrival } from './storage.js';
import { importModule } from '../dynamic-import.js';

export interface WatcherOptions {
  dirs: readonly string[];
  settleMs: number;
  incompleteAfterMs: number;
  rescanMs: number;
  detect(path: string): string | null;
  onArrival(a: Arrival): Promise<void>;
  onError?(e: Error): void;
}

export const fingerprint = (st: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): string => `${st.size}:${Math.round(st.mtimeMs)}:${st.ino}`;

interface Pending { fp: string; since: number; firstSeen: number }

export class CrashDirWatcher {
  #pending = new Map<string, Pending>();
  /** what was handed over in this run, path → fingerprint */
  #handed = new Map<string, string>();
  #timers: NodeJS.Timeout[] = [];
  #watcher: { close(): Promise<void> } | null = null;
  #ticking = false;

  constructor(readonly o: WatcherOptions) {}

  async start(): Promise<void> {
    this.rescan();
    const { watch } = await importModule<typeof import('chokidar')>('chokidar');
    const w = watch(this.o.dirs.map((d) => resolve(d)), { ignoreInitial: true, followSymlinks: true, depth: 16, persistent: true });
    w.on('add', (p) => this.consider(p));
    w.on('change', (p) => this.consider(p));
    w.on('unlink', (p) => { this.#pending.delete(p); this.#handed.delete(p); });
    w.on('error', (e) => this.o.onError?.(e as Error));
    await new Promise<void>((r) => w.once('ready', () => r()));
    this.#watcher = w;
    this.#timers.push(setInterval(() => void this.tick(), Math.max(100, Math.min(this.o.settleMs / 2, 1000))));
    if (this.o.rescanMs > 0) this.#timers.push(setInterval(() => this.rescan(), this.o.rescanMs));
  }

  /** walk every crash directory: files not seen yet are considered */
  rescan(): void {
    for (const d of this.o.dirs) {
      try { walkFiles(d, (p) => this.consider(p)); } catch (e) { this.o.onError?.(e as Error); }
    }
  }

  /** a file appeared or changed: it waits until it has not changed for the settle time */
  consider(path: string): void {
    let st: Stats;
    try { st = statSync(path); } catch { this.#pending.delete(path); return; }
    if (!st.isFile()) return;
    const fp = fingerprint(st);
    if (this.#handed.get(path) === fp) return;
    const p = this.#pending.get(path);
    const now = Date.now();
    if (!p) this.#pending.set(path, { fp, since: now, firstSeen: now });
    else if (p.fp !== fp) { p.fp = fp; p.since = now; }
  }

  /** hand over every pending file that has been still long enough */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const now = Date.now();
      for (const [path, p] of [...this.#pending]) {
        const wait = isIncompleteName(path) ? this.o.incompleteAfterMs : this.o.settleMs;
        if (now - p.since < wait) continue;
        let st: Stats;
        try { st = statSync(path); } catch { this.#pending.delete(path); continue; }
        const fp = fingerprint(st);
        if (fp !== p.fp) { p.fp = fp; p.since = now; continue; }
        this.#pending.delete(path);
        this.#handed.set(path, fp);
        const r = probeFile(path, st, this.o.detect);
        const found = 'format' in r;
        try {
          await this.o.onArrival({
            path, fingerprint: fp, size: st.size, format: found ? r.format : null, rejectReason: found ? null : r.reason,
            incomplete: isIncompleteName(path), arrivedAt: p.firstSeen,
          });
        } catch (e) {
          // the database is away: try again at the next tick
          this.#handed.delete(path);
          this.#pending.set(path, p);
          this.o.onError?.(e as Error);
        }
      }
    } finally {
      this.#ticking = false;
    }
  }

  /** files seen and not yet handed over */
  get waiting(): number { return this.#pending.size; }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#watcher?.close();
  }
}
