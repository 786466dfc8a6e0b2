/**
 * Page-granular reads of kernel virtual memory for scanning: pages are fetched in large batches
 * (one native call per batch) and a page the dump lacks (excluded by makedumpfile, or not mapped)
 * is a hole rather than an error, because a scan must step over holes, not stop at them.
 */
import type { MemoryReader } from '../dump/dump.js';

export const PAGE = 4096;
const PAGE_N = 4096n;

export class PageCache {
  readonly #pages = new Map<bigint, Buffer | null>();
  /** pages fetched from the dump so far (for reports and timing) */
  fetched = 0;

  constructor(readonly mem: MemoryReader) {}

  /** fetch (once) every page overlapping [addr, addr+len) */
  prefetch(addr: bigint, len: number): void {
    const first = addr & ~(PAGE_N - 1n);
    const want: bigint[] = [];
    for (let p = first; p < addr + BigInt(len); p += PAGE_N) if (!this.#pages.has(p)) want.push(p);
    if (want.length === 0) return;
    const got = this.mem.readVirtMany(want, PAGE, true);
    this.fetched += want.length;
    for (let i = 0; i < want.length; i++) this.#pages.set(want[i], got[i]);
  }

  /** the page at a page-aligned address, null for a hole */
  page(pageAddr: bigint): Buffer | null {
    if (!this.#pages.has(pageAddr)) this.prefetch(pageAddr, PAGE);
    return this.#pages.get(pageAddr) ?? null;
  }

  /** [addr, addr+len) as one buffer, or null when any byte of it lies in a hole */
  read(addr: bigint, len: number): Buffer | null {
    this.prefetch(addr, len);
    const out = Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const a = addr + BigInt(done);
      const pageAddr = a & ~(PAGE_N - 1n);
      const pg = this.#pages.get(pageAddr);
      if (!pg) return null;
      const off = Number(a - pageAddr);
      const n = Math.min(PAGE - off, len - done);
      pg.copy(out, done, off, off + n);
      done += n;
    }
    return out;
  }

  /** [start, start+len) from a page-aligned start, holes as zero bytes, and how many pages were holes */
  region(start: bigint, len: number): { buf: Buffer; holes: number } {
    if ((start & (PAGE_N - 1n)) !== 0n) throw new RangeError(`region start 0x${start.toString(16)} is not page-aligned`);
    this.prefetch(start, len);
    const buf = Buffer.alloc(len);
    let holes = 0;
    for (let off = 0; off < len; off += PAGE) {
      const pg = this.#pages.get(start + BigInt(off));
      if (pg) pg.copy(buf, off, 0, Math.min(PAGE, len - off));
      else holes++;
    }
    return { buf, holes };
  }
}
