/**
 * Input `index` of a fuzz run, as a description of what to damage: byte patches and a truncation
 * of a seed dump file, a damaged copy of the kernel's BTF, or patches to kernel memory the
 * analyses read (pointers of task lists, rb-trees and list_heads turned into cycles, NULLs and
 * wild addresses). Everything follows from (seed, index) and the seeds' parsed layouts.
 */
import { inputRng, type Rng } from './rng.js';
import type { Field, SeedDump } from './seeds.js';

export interface FilePatch { offset: number; bytes: Buffer }
export interface MemPatch { addr: bigint; bytes: Buffer }

/** the analyses an input is put through: CLI commands with their arguments */
export type Analysis = string[];

export type Mutation =
  | { kind: 'file'; seed: string; what: string; patches: FilePatch[]; truncate?: number; analyses: Analysis[] }
  | { kind: 'btf'; what: string; patches: FilePatch[]; truncate?: number }
  | { kind: 'memory'; seed: string; what: string; patches: MemPatch[]; analyses: Analysis[] };

/** what the generator knows about the seeds: layouts, BTF size, and kernel-memory reads seen */
export interface FuzzContext {
  seeds: SeedDump[];
  btfSize: number;
  /** per seed name: 8-byte words the intact analyses read, with the value read (pointers are the interesting ones) */
  traces: Map<string, { addr: bigint; value: bigint }[]>;
}

export const ANALYSES: Analysis[] = [
  ['sys'], ['ps'], ['bt', '-a'], ['log'], ['runq', '-g'], ['cgroupinfo', '--tasks'], ['lockinfo', '--blocked'],
  ['stacks'], ['mod'], ['cpuinfo', '-i', '-t'], ['summary'], ['tasktable', '--fields', 'pid,comm,se.vruntime'], ['info'],
];

const U64 = (1n << 64n) - 1n;

function le(value: bigint, width: number, be = false): Buffer {
  const b = Buffer.alloc(width);
  const v = BigInt.asUintN(width * 8, value);
  for (let i = 0; i < width; i++) b[be ? width - 1 - i : i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return b;
}

/** a value a damaged or hostile field could hold */
function interesting(r: Rng, width: number, size: number): bigint {
  const top = (1n << BigInt(width * 8)) - 1n;
  const vals = [0n, 1n, top, top >> 1n, (top >> 1n) + 1n, BigInt(size), BigInt(size) + 1n, BigInt(size) * 2n, 1n << 34n, 1n << 40n,
    0xffffn, 0x10000n, 4096n, 4095n, BigInt(r.int(1 << 30)), BigInt(r.int(256))];
  return r.pick(vals) & top;
}

function randomBytes(r: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r.int(256);
  return b;
}

function fieldPatch(r: Rng, f: Field, size: number): FilePatch {
  return { offset: f.offset, bytes: le(interesting(r, f.width, size), f.width, f.be) };
}

function inRegion(r: Rng, seed: SeedDump, names: string[]): number | null {
  const rs = seed.regions.filter((x) => names.includes(x.name) && x.end > x.start);
  if (!rs.length) return null;
  const g = r.pick(rs);
  return g.start + r.int(g.end - g.start);
}

function bytePatch(r: Rng, at: number): FilePatch {
  const n = 1 + r.int(r.chance(0.7) ? 4 : 32);
  const mode = r.int(4);
  const bytes = mode === 0 ? Buffer.alloc(n, 0) : mode === 1 ? Buffer.alloc(n, 0xff) : mode === 2 ? randomBytes(r, n) : Buffer.from([r.int(256) ^ (1 << r.int(8))]);
  return { offset: at, bytes };
}

/** a length-preserving damage of one VMCOREINFO line: a non-hex digit, a huge number, a renamed key, another symbol's value */
function vmcoreinfoPatch(r: Rng, seed: SeedDump, text: Buffer): FilePatch[] {
  const reg = seed.regions.find((x) => x.name === 'vmcoreinfo');
  if (!reg || !text.length) return [];
  const lines: { at: number; line: string }[] = [];
  let at = 0;
  for (const line of text.toString('latin1').split('\n')) { lines.push({ at, line }); at += line.length + 1; }
  const l = r.pick(lines.filter((x) => x.line.includes('=')));
  if (!l) return [];
  const eq = l.line.indexOf('=');
  const value = l.line.slice(eq + 1);
  const base = reg.start + l.at;
  switch (r.int(6)) {
    case 0: return [{ offset: base + eq + 1 + r.int(Math.max(1, value.length)), bytes: Buffer.from([r.pick([0xfd, 0x47, 0x20, 0x00, 0x2d])]) }];
    case 1: return [{ offset: base + eq + 1, bytes: Buffer.from('9'.repeat(value.length), 'latin1') }];
    case 2: return [{ offset: base + r.int(eq), bytes: Buffer.from('X', 'latin1') }];
    case 3: return [{ offset: base + eq, bytes: Buffer.from(' ', 'latin1') }];
    case 4: {
      const other = r.pick(lines.filter((x) => x.line.startsWith('SYMBOL(')));
      const v = other?.line.slice(other.line.indexOf('=') + 1) ?? '';
      return v.length === value.length ? [{ offset: base + eq + 1, bytes: Buffer.from(v, 'latin1') }] : [];
    }
    default: return [{ offset: base + eq + 1, bytes: Buffer.from('0'.repeat(value.length), 'latin1') }];
  }
}

/** a kdump page descriptor made hostile: offset past the end or negative, size 0 or huge, unknown codec flags */
function descriptorPatch(r: Rng, seed: SeedDump): FilePatch[] {
  const d = seed.descriptors;
  if (!d || !d.count) return [];
  const at = d.start + 24 * r.int(d.count);
  switch (r.int(4)) {
    case 0: return [{ offset: at, bytes: le(r.pick([0n, -1n, 1n << 62n, BigInt(seed.size), BigInt(seed.size) - 8n, BigInt(r.int(seed.size))]), 8) }];
    case 1: return [{ offset: at + 8, bytes: le(r.pick([0n, 1n, 4095n, 4097n, 0xffffffffn, 1n << 20n, BigInt(r.int(8192))]), 4) }];
    case 2: return [{ offset: at + 12, bytes: le(BigInt(r.int(1 << 8)), 4) }];
    default: return [bytePatch(r, at + r.int(24))];
  }
}

export function mutation(ctx: FuzzContext, seed: number, index: number, vmcoreinfoText: (s: SeedDump) => Buffer): Mutation {
  const r = inputRng(seed, index);
  const roll = r();
  // Most inputs damage the file (cheap: open, read pages, parse VMCOREINFO); some damage kernel
  // memory or the BTF (the analyses' inputs); a few of the file inputs also run an analysis.
  if (roll < 0.12 && ctx.traces.size) return memoryMutation(ctx, r);
  if (roll < 0.24) return btfMutation(ctx, r);
  const s = r.pick(ctx.seeds);
  const analyses: Analysis[] = r.chance(0.08) ? [r.pick(ANALYSES)] : [];
  const kind = r.int(10);
  const patches: FilePatch[] = [];
  let truncate: number | undefined;
  let what: string;
  switch (kind) {
    case 0: { const f = r.pick(s.fields); patches.push(fieldPatch(r, f, s.size)); what = `field ${f.name}`; break; }
    case 1: {
      // crafted huge headers: a size field at its largest with the fields that must agree
      const sizes = s.fields.filter((f) => /mapnr|bitmap_blocks|phnum|filesz|memsz|size_note|size_vmcoreinfo|dst_len|src_len|record\d+\.size|sh/.test(f.name));
      for (const f of sizes.length ? [r.pick(sizes), r.pick(sizes)] : []) patches.push({ offset: f.offset, bytes: le(r.pick([(1n << 34n), (1n << 40n), U64, (1n << 31n) - 1n, 0xffffn]), f.width, f.be) });
      what = 'huge header';
      break;
    }
    case 2: { const at = inRegion(r, s, ['bitmap-ram', 'bitmap-dumped']); if (at !== null) patches.push(bytePatch(r, at)); what = 'bitmap'; break; }
    case 3: patches.push(...descriptorPatch(r, s)); what = 'page descriptor'; break;
    case 4: { const at = inRegion(r, s, ['page-data', 'load', 'block-data', 'record-data']); if (at !== null) patches.push(bytePatch(r, at)); what = 'page data'; break; }
    case 5: { const at = inRegion(r, s, ['notes']); if (at !== null) patches.push(bytePatch(r, at)); what = 'ELF notes'; break; }
    case 6: patches.push(...vmcoreinfoPatch(r, s, vmcoreinfoText(s))); what = 'VMCOREINFO'; if (r.chance(0.5)) analyses.push(r.pick(ANALYSES)); break;
    case 7: { truncate = r.chance(0.8) && s.boundaries.length ? r.pick(s.boundaries) + r.pick([0, 0, -1, 1, -8]) : r.int(s.size); what = 'truncation'; break; }
    case 8: { const at = inRegion(r, s, ['header', 'sub-header', 'elf-header', 'program-headers', 'lzop-header', 'block-header', 'flat-header', 'record-header']); if (at !== null) patches.push(bytePatch(r, at)); what = 'header bytes'; break; }
    default: { for (let i = 1 + r.int(8); i > 0; i--) patches.push(bytePatch(r, r.int(Math.min(s.size, 1 << 20)))); what = 'scattered bytes'; }
  }
  return { kind: 'file', seed: s.name, what, patches: patches.filter((p) => p.offset >= 0 && p.offset < s.size), ...(truncate !== undefined ? { truncate: Math.max(0, truncate) } : {}), analyses };
}

/** damage to the kernel's BTF: header fields, type records (kinds, vlen, ids), strings, or a cut */
function btfMutation(ctx: FuzzContext, r: Rng): Mutation {
  const n = ctx.btfSize;
  const patches: FilePatch[] = [];
  let truncate: number | undefined;
  const k = r.int(5);
  if (k === 0) patches.push({ offset: r.pick([4, 8, 12, 16, 20]), bytes: le(interesting(r, 4, n), 4) }); // hdr_len, type_off/len, str_off/len
  else if (k === 1) for (let i = 1 + r.int(6); i > 0; i--) patches.push(bytePatch(r, 24 + r.int(Math.min(n - 24, 1 << 16))));
  else if (k === 2) patches.push({ offset: 24 + 4 * r.int(Math.floor((n - 24) / 4)), bytes: le(BigInt(r.pick([0, 1, 0xffff, 0x7fffffff, 0xffffffff, r.int(200_000)])), 4) });
  else if (k === 3) patches.push(bytePatch(r, 24 + r.int(n - 24)));
  else truncate = r.int(n);
  return { kind: 'btf', what: ['header', 'early types', 'a word', 'any bytes', 'truncation'][k], patches, ...(truncate !== undefined ? { truncate } : {}) };
}

const pointerMemo = new WeakMap<object, { addr: bigint; value: bigint }[]>();
/** the traced words holding kernel pointers (computed once per trace: a trace has up to 200k words) */
function pointerWords(words: { addr: bigint; value: bigint }[]): { addr: bigint; value: bigint }[] {
  let p = pointerMemo.get(words);
  if (!p) { p = words.filter((w) => w.value >= 0xffff800000000000n); pointerMemo.set(words, p); }
  return p;
}

/** kernel memory the analyses read, made hostile: a pointer to itself (a cycle), to another read word, NULL, or wild */
function memoryMutation(ctx: FuzzContext, r: Rng): Mutation {
  const seed = r.pick([...ctx.traces.keys()]);
  const words = ctx.traces.get(seed)!;
  const pointers = pointerWords(words);
  const patches: MemPatch[] = [];
  let what = '';
  for (let i = 1 + r.int(3); i > 0; i--) {
    const w = r.chance(0.8) && pointers.length ? r.pick(pointers) : r.pick(words);
    const k = r.int(6);
    const v = k === 0 ? w.addr : k === 1 ? r.pick(words).addr : k === 2 ? 0n : k === 3 ? w.value - 8n : k === 4 ? w.value ^ (1n << BigInt(r.int(48))) : BigInt.asUintN(64, BigInt(r.int(2 ** 31)) * 0x100000001n);
    patches.push({ addr: w.addr, bytes: le(v, 8) });
    what += ['self-cycle', 'cross-link', 'NULL', 'back-by-8', 'bit-flip', 'wild'][k] + ' ';
  }
  return { kind: 'memory', seed, what: what.trim(), patches, analyses: [r.pick(ANALYSES), ...(r.chance(0.3) ? [r.pick(ANALYSES)] : [])] };
}
