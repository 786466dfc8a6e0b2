/**
 * The rodata scan against synthetic kernels: kallsyms blobs laid out in each order
 * scripts/kallsyms.c has used (≤6.1, 6.2–6.3 with seqs_of_names, 6.4+ with the address table
 * last, CONFIG_KALLSYMS_BASE_RELATIVE=n), since the real fixtures are all one 6.1 kernel.
 */
import { describe, expect, it } from 'vitest';
import type { MemoryReader } from '../src/dump/dump.js';
import { VmcoreInfo } from '../src/dump/vmcoreinfo.js';
import { findKallsyms, KallsymsError } from '../src/symbols/kallsyms.js';
import { KallsymsNotFoundError } from '../src/symbols/kallsyms-scan.js';
import type { AddressRule } from '../src/symbols/kallsyms-layout.js';

const STEXT = 0xffffffffa1000000n;
const RODATA = 0x200000; // offset of the blob's area from _stext
const DATA = 0x600000; // init_uts_ns, prb live here: the scan's pivot
const IMAGE = 0x800000;

interface Sym { name: string; type: string; address: bigint }

function symbols(n: number, percpu: boolean): Sym[] {
  const out: Sym[] = [];
  if (percpu) {
    out.push({ name: 'fixed_percpu_data', type: 'D', address: 0n });
    out.push({ name: 'cpu_number', type: 'D', address: 0x1234n });
  }
  out.push({ name: '_stext', type: 'T', address: STEXT });
  let a = STEXT + 0x40n;
  for (let i = 0; out.length < n - 2; i++) {
    // a few long names exercise the 2-byte length form ("big" symbols, 6.1)
    const name = i % 97 === 5 ? `long_${'x'.repeat(150 + (i % 40))}_${i}` : `fn_${i.toString(36)}_${['read', 'write', 'open'][i % 3]}`;
    out.push({ name, type: i % 5 === 0 ? 't' : 'T', address: a });
    a += BigInt(16 + (i % 7) * 16);
  }
  out.push({ name: 'init_uts_ns', type: 'D', address: STEXT + BigInt(DATA) + 0x9e0n });
  out.push({ name: 'prb', type: 'd', address: STEXT + BigInt(DATA) + 0x12c0n });
  return out;
}

/** token table: printable characters stand for themselves, the other 161 byte values for bigrams */
function tokenize(syms: Sym[]): { tokens: string[]; encode: (s: string) => number[] } {
  const counts = new Map<string, number>();
  for (const s of syms) {
    const t = s.type + s.name;
    for (let i = 0; i + 1 < t.length; i++) counts.set(t.slice(i, i + 2), (counts.get(t.slice(i, i + 2)) ?? 0) + 1);
  }
  const bigrams = [...counts].sort((x, y) => y[1] - x[1]).map(([b]) => b);
  const tokens: string[] = [];
  const pair = new Map<string, number>();
  for (let c = 0; c < 256; c++) {
    if (c >= 0x20 && c <= 0x7e) tokens.push(String.fromCharCode(c));
    else {
      const b = bigrams.shift() ?? `q${c}`;
      tokens.push(b);
      pair.set(b, c);
    }
  }
  const encode = (s: string): number[] => {
    const out: number[] = [];
    for (let i = 0; i < s.length; ) {
      const p = pair.get(s.slice(i, i + 2));
      if (p !== undefined && i + 1 < s.length) { out.push(p); i += 2; } else { out.push(s.charCodeAt(i)); i += 1; }
    }
    return out;
  };
  return { tokens, encode };
}

type Order = 'upto-6.1' | '6.2-6.3' | '6.4+' | 'absolute';

class Writer {
  buf = Buffer.alloc(4 << 20);
  pos = 0;
  labels = new Map<string, number>();
  constructor(readonly algn: number) {}
  label(name: string): void { this.pos = Math.ceil(this.pos / this.algn) * this.algn; this.labels.set(name, this.pos); }
  u8(v: number): void { this.buf[this.pos++] = v; }
  u16(v: number): void { this.buf.writeUInt16LE(v, this.pos); this.pos += 2; }
  u32(v: number): void { this.buf.writeUInt32LE(v >>> 0, this.pos); this.pos += 4; }
  s32(v: number): void { this.buf.writeInt32LE(v, this.pos); this.pos += 4; }
  u64(v: bigint): void { this.buf.writeBigUInt64LE(v, this.pos); this.pos += 8; }
}

function buildKernel(order: Order, rule: AddressRule, n = 1500): { mem: MemoryReader; info: VmcoreInfo; syms: Sym[]; labels: Map<string, number> } {
  const syms = symbols(n, rule === 'relative-absolute-percpu');
  const { tokens, encode } = tokenize(syms);
  const w = new Writer(order === '6.4+' ? 4 : 8);
  const base = STEXT;
  const addressTable = (): void => {
    if (rule === 'absolute') {
      w.label('kallsyms_addresses');
      for (const s of syms) w.u64(s.address);
      return;
    }
    w.label('kallsyms_offsets');
    for (const s of syms) {
      if (rule === 'relative') w.u32(Number(s.address - base));
      else w.s32(s.address < base ? Number(s.address) : -Number(s.address - base) - 1);
    }
    w.label('kallsyms_relative_base');
    w.u64(base);
  };
  const markers: number[] = [];
  const names = (): void => {
    w.label('kallsyms_num_syms');
    w.u32(syms.length);
    w.label('kallsyms_names');
    const start = w.pos;
    syms.forEach((s, i) => {
      if (i % 256 === 0) markers.push(w.pos - start);
      const e = encode(s.type + s.name);
      if (e.length > 127) { w.u8((e.length & 0x7f) | 0x80); w.u8(e.length >> 7); } else w.u8(e.length);
      for (const b of e) w.u8(b);
    });
    w.label('kallsyms_markers');
    for (const m of markers) w.u32(m);
  };
  const seqs = (): void => {
    w.label('kallsyms_seqs_of_names');
    const idx = syms.map((_, i) => i).sort((x, y) => (syms[x].name < syms[y].name ? -1 : 1));
    for (const i of idx) { w.u8(i >> 16); w.u8((i >> 8) & 0xff); w.u8(i & 0xff); }
  };
  const tokenTables = (): void => {
    w.label('kallsyms_token_table');
    const index: number[] = [];
    const start = w.pos;
    for (const t of tokens) { index.push(w.pos - start); for (const c of t) w.u8(c.charCodeAt(0)); w.u8(0); }
    w.label('kallsyms_token_index');
    for (const i of index) w.u16(i);
  };
  if (order === '6.4+') { names(); tokenTables(); addressTable(); seqs(); }
  else { addressTable(); names(); if (order === '6.2-6.3') seqs(); tokenTables(); }

  // the image: pseudo-random "text", the blob in rodata, a hole page, data
  const image = Buffer.alloc(IMAGE);
  let x = 12345;
  for (let i = 0; i < RODATA; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; image[i] = x >> 16; }
  w.buf.copy(image, RODATA + 0x1230, 0, w.pos);
  const holes = new Set<number>([(RODATA >> 12) - 3, (DATA >> 12) - 1]);
  const labels = new Map([...w.labels].map(([k, v]) => [k, v + RODATA + 0x1230]));
  const read = (a: bigint, len: number): Buffer | null => {
    const off = Number(a - STEXT);
    if (a < STEXT || off + len > IMAGE) return null;
    for (let p = off >> 12; p <= (off + len - 1) >> 12; p++) if (holes.has(p)) return null;
    return image.subarray(off, off + len);
  };
  const mem: MemoryReader = {
    file: `synthetic-${order}`,
    readVirt(a, len) { const b = read(a, len); if (!b) throw new Error(`not mapped 0x${a.toString(16)}`); return b; },
    readPhys() { throw new Error('no physical memory in a synthetic kernel'); },
    readVirtMany(addrs, sizes, allowFail) {
      return addrs.map((a, i) => {
        const b = read(a, typeof sizes === 'number' ? sizes : sizes[i]);
        if (!b && !allowFail) throw new Error(`not mapped 0x${a.toString(16)}`);
        return b;
      });
    },
  };
  const sym = (s: string): string => syms.find((y) => y.name === s)!.address.toString(16);
  const info = new VmcoreInfo(
    ['OSRELEASE=synthetic', `SYMBOL(_stext)=${sym('_stext')}`, `SYMBOL(init_uts_ns)=${sym('init_uts_ns')}`, `SYMBOL(prb)=${sym('prb')}`, 'KERNELOFFSET=20000000', ''].join('\n'),
  );
  return { mem, info, syms, labels };
}

const variants: [Order, AddressRule][] = [
  ['upto-6.1', 'relative-absolute-percpu'],
  ['6.2-6.3', 'relative-absolute-percpu'],
  ['6.4+', 'relative'],
  ['6.4+', 'relative-absolute-percpu'],
  ['absolute', 'absolute'],
];

describe('rodata scan on synthetic kallsyms layouts', () => {
  for (const [order, rule] of variants) {
    it(`finds and decodes the ${order} order with ${rule} addresses`, () => {
      const k = buildKernel(order, rule);
      const t = findKallsyms(k.mem, k.info);
      expect(t.method).toBe('rodata-scan');
      expect(t.rule).toBe(rule);
      expect(t.count).toBe(k.syms.length);
      const at = (l: string): bigint => STEXT + BigInt(k.labels.get(l)!);
      expect(t.layout.names).toBe(at('kallsyms_names'));
      expect(t.layout.tokenTable).toBe(at('kallsyms_token_table'));
      expect(t.layout.markers).toBe(at('kallsyms_markers'));
      expect(t.layout.seqsOfNames).toBe(k.labels.has('kallsyms_seqs_of_names') && order !== '6.4+' ? at('kallsyms_seqs_of_names') : undefined);
      expect(t.layout.order).toBe(order === '6.4+' ? 'offsets-last' : 'offsets-first');
      expect(t.proof.matched.sort()).toEqual(['_stext', 'init_uts_ns', 'prb']);
      const got = [...t.all()];
      for (let i = 0; i < k.syms.length; i++) {
        expect(got[i].name).toBe(k.syms[i].name);
        expect(got[i].type).toBe(k.syms[i].type);
        expect(got[i].address).toBe(k.syms[i].address);
      }
    });
  }

  it('uses VMCOREINFO\'s table locations when listed, and falls back to the scan when they are wrong', () => {
    const k = buildKernel('6.4+', 'relative');
    const at = (l: string): string => (STEXT + BigInt(k.labels.get(l)!)).toString(16);
    const lines = ['names', 'num_syms', 'token_table', 'token_index', 'offsets', 'relative_base'].map((t) => `SYMBOL(kallsyms_${t})=${at(`kallsyms_${t}`)}`);
    const listed = new VmcoreInfo(k.info.raw + lines.join('\n') + '\n');
    const direct = findKallsyms(k.mem, listed);
    expect(direct.method).toBe('vmcoreinfo');
    expect(direct.count).toBe(k.syms.length);
    const wrong = new VmcoreInfo(listed.raw.replace(/SYMBOL\(kallsyms_names\)=\w+/, `SYMBOL(kallsyms_names)=${at('kallsyms_names').replace(/.$/, '0')}`));
    const fellBack = findKallsyms(k.mem, wrong);
    expect(fellBack.method).toBe('rodata-scan');
    expect(fellBack.source).toMatch(/VMCOREINFO tables unusable/);
    expect(() => findKallsyms(k.mem, wrong, { method: 'vmcoreinfo' })).toThrow(KallsymsError);
  });

  it('refuses tables whose addresses disagree with VMCOREINFO', () => {
    const k = buildKernel('upto-6.1', 'relative-absolute-percpu');
    const lied = new VmcoreInfo(k.info.raw.replace(/SYMBOL\(_stext\)=\w+/, 'SYMBOL(_stext)=ffffffffa1000040'));
    expect(() => findKallsyms(k.mem, lied)).toThrow(KallsymsError);
  });

  it('reports a clear error when no token index is in the image', () => {
    const k = buildKernel('6.4+', 'relative');
    const ti = STEXT + BigInt(k.labels.get('kallsyms_token_index')!);
    const mem: MemoryReader = {
      ...k.mem,
      readVirtMany: (addrs, sizes, allowFail) => k.mem.readVirtMany(addrs, sizes, allowFail).map((b, i) => {
        // break the token index's ascending order in every copy handed out
        if (!b || addrs[i] > ti || addrs[i] + BigInt(b.length) <= ti) return b;
        const c = Buffer.from(b);
        c.writeUInt16LE(0xffff, Number(ti - addrs[i]) + 20);
        return c;
      }),
    };
    expect(() => findKallsyms(mem, k.info)).toThrow(KallsymsNotFoundError);
  });
});
