/**
 * VMCOREINFO: the key=value note the kernel leaves for dump tools. Values are checked when read:
 * a value that is not the number its key promises is a CorruptDumpError naming the key, never a
 * NaN or an exception from BigInt().
 */
import { CorruptDumpError } from '../errors/index.js';

/** The VMCOREINFO note parsed: OSRELEASE, BUILD-ID, SYMBOL(), SIZE(), OFFSET(), NUMBER() and the other keys, values checked as read. */
export class VmcoreInfo {
  readonly lines: ReadonlyMap<string, string>;
  constructor(readonly raw: string) {
    const m = new Map<string, string>();
    for (const line of raw.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1));
    }
    this.lines = m;
  }
  get(key: string): string | undefined { return this.lines.get(key); }
  /** SYMBOL(name) as an address */
  symbol(name: string): bigint | undefined { return this.#hex(`SYMBOL(${name})`); }
  /** OFFSET(struct.member) */
  offset(path: string): number | undefined { return this.#dec(`OFFSET(${path})`); }
  /** SIZE(struct) */
  size(name: string): number | undefined { return this.#dec(`SIZE(${name})`); }
  /**
   * NUMBER(name): signed decimal, or 0x-prefixed hex — arm64's crash_core.c writes
   * `NUMBER(KERNELPACMASK)=0x%llx` (and kimage_voffset, PHYS_OFFSET, TCR_EL1_T1SZ the same way).
   */
  number(name: string): bigint | undefined {
    const v = this.lines.get(`NUMBER(${name})`);
    if (v === undefined) return undefined;
    const t = v.trim();
    if (/^0x[0-9a-f]{1,16}$/i.test(t)) return BigInt(t);
    if (!/^-?\d{1,20}$/.test(t)) throw this.#bad(`NUMBER(${name})`, v, 'a decimal or 0x-hex number');
    return BigInt(t);
  }
  /** LENGTH(name) */
  length(name: string): number | undefined { return this.#dec(`LENGTH(${name})`); }
  get osrelease(): string | undefined { return this.lines.get('OSRELEASE'); }
  get buildId(): string | undefined { return this.lines.get('BUILD-ID'); }
  get pageSize(): number | undefined { return this.#dec('PAGESIZE'); }
  /** KASLR slide of the kernel image (hex in VMCOREINFO), 0n if absent */
  get kernelOffset(): bigint { return this.#hex('KERNELOFFSET') ?? 0n; }
  /** crash time, seconds since the epoch */
  get crashTime(): number | undefined { return this.#dec('CRASHTIME'); }
  /** every key/value, for JSON */
  toJSON(): Record<string, string> { return Object.fromEntries(this.lines); }

  /** a 64-bit hex value (with or without 0x) */
  #hex(key: string): bigint | undefined {
    const v = this.lines.get(key);
    if (v === undefined) return undefined;
    const digits = v.trim().replace(/^0x/i, '');
    if (!/^[0-9a-f]{1,16}$/i.test(digits)) throw this.#bad(key, v, 'a 64-bit hex number');
    return BigInt('0x' + digits);
  }

  /** a non-negative decimal that fits a JS number exactly */
  #dec(key: string): number | undefined {
    const v = this.lines.get(key);
    if (v === undefined) return undefined;
    if (!/^\d{1,15}$/.test(v.trim())) throw this.#bad(key, v, 'a decimal number');
    return Number(v.trim());
  }

  #bad(key: string, value: string, want: string): CorruptDumpError {
    return new CorruptDumpError(`VMCOREINFO ${key}=${JSON.stringify(value).slice(1, -1).slice(0, 40)} is not ${want} (corrupt VMCOREINFO note)`, undefined, { structure: 'VMCOREINFO' });
  }
}
