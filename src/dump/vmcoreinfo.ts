/** VMCOREINFO: the key=value note the kernel leaves for dump tools. */
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
  symbol(name: string): bigint | undefined { return hex(this.lines.get(`SYMBOL(${name})`)); }
  /** OFFSET(struct.member) */
  offset(path: string): number | undefined { return dec(this.lines.get(`OFFSET(${path})`)); }
  /** SIZE(struct) */
  size(name: string): number | undefined { return dec(this.lines.get(`SIZE(${name})`)); }
  /** NUMBER(name), signed decimal */
  number(name: string): bigint | undefined {
    const v = this.lines.get(`NUMBER(${name})`);
    return v === undefined ? undefined : BigInt(v);
  }
  /** LENGTH(name) */
  length(name: string): number | undefined { return dec(this.lines.get(`LENGTH(${name})`)); }
  get osrelease(): string | undefined { return this.lines.get('OSRELEASE'); }
  get buildId(): string | undefined { return this.lines.get('BUILD-ID'); }
  get pageSize(): number | undefined { return dec(this.lines.get('PAGESIZE')); }
  /** KASLR slide of the kernel image (hex in VMCOREINFO), 0n if absent */
  get kernelOffset(): bigint { return hex(this.lines.get('KERNELOFFSET')) ?? 0n; }
  /** crash time, seconds since the epoch */
  get crashTime(): number | undefined { return dec(this.lines.get('CRASHTIME')); }
  /** every key/value, for JSON */
  toJSON(): Record<string, string> { return Object.fromEntries(this.lines); }
}

function hex(v: string | undefined): bigint | undefined {
  return v === undefined ? undefined : BigInt('0x' + v.replace(/^0x/i, ''));
}
function dec(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? undefined : n;
}
