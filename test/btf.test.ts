/**
 * BTF parser against the real 6.1 kernel: every struct and member in layouts.json (drgn reading
 * the DWARF vmlinux), pahole run on the same vmlinux.btf as an independent oracle, a split BTF
 * that pahole encodes for a scenario module at test time, and corrupt copies of the blob.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelDir } from './fixtures.js';
import { BtfTypes, parseBtf } from '../src/types/btf.js';
import { findBtfInBuffer } from '../src/types/btf-format.js';
import { BtfError, TypeLookupError } from '../src/types/errors.js';

const btfPath = join(kernelDir, 'vmlinux.btf');
const layoutsPath = join(kernelDir, 'layouts.json');
for (const p of [btfPath, layoutsPath]) if (!existsSync(p)) throw new Error(`fixture missing: ${p}`);

const raw = readFileSync(btfPath);

// Parse first, at module load, so the timing is of a cold parser as a CLI run would see it.
const t0 = performance.now();
const btf = parseBtf(raw, { label: btfPath });
const parseMs = performance.now() - t0;
const t1 = performance.now();
const taskStruct = btf.findType('struct task_struct');
const indexMs = performance.now() - t1;

interface LayoutMember {
  name?: string;
  offset: number;
  type: string;
  size?: number | null;
  bit_offset?: number;
  bit_field_size?: number;
  in_unnamed?: 'struct' | 'union';
}
interface Layouts { types: Record<string, { size: number; requested: Record<string, LayoutMember>; members: LayoutMember[] }> }
const layouts = JSON.parse(readFileSync(layoutsPath, 'utf8')) as Layouts;

describe('loading vmlinux BTF', () => {
  it('parses the 4 MB blob and finds every type', () => {
    console.log(`vmlinux.btf: ${raw.length} bytes, ${btf.typeCount} ids, parse ${parseMs.toFixed(1)} ms, name index ${indexMs.toFixed(1)} ms`);
    expect(btf.header.littleEndian).toBe(true);
    expect(btf.typeCount).toBeGreaterThan(90_000);
    expect(taskStruct).not.toBeNull();
    expect(btf.pointerSize).toBe(8);
  });
});

describe('layouts.json (drgn on the DWARF vmlinux)', () => {
  let checked = 0;
  afterAll(() => console.log(`layouts.json: ${checked} member checks over ${Object.keys(layouts.types).length} structs`));

  for (const [typeName, layout] of Object.entries(layouts.types)) {
    it(`${typeName}: size, every member in order, requested paths`, () => {
      expect(btf.sizeof(typeName)).toBe(layout.size);
      const flat = btf.members(typeName);
      expect(flat.map((m) => m.name)).toEqual(layout.members.map((m) => m.name));
      layout.members.forEach((want, i) => {
        const got = flat[i];
        expect({ name: got.name, offset: got.offset, type: btf.typeName(got.type) }).toEqual({ name: want.name, offset: want.offset, type: want.type });
        expect(got.inUnnamed).toBe(want.in_unnamed ?? null);
        if (want.bit_field_size !== undefined) {
          expect([got.bitOffset, got.bitSize]).toEqual([want.bit_offset, want.bit_field_size]);
        } else {
          expect(got.bitSize).toBeNull();
          expect(got.bitOffset).toBe(want.offset * 8);
          // layouts gives size null for a flexible array member: an array of length 0 here.
          if (want.size === null) expect(btf.resolved(got.type)).toMatchObject({ kind: 'array', length: 0 });
          else expect(btf.sizeof(got.type)).toBe(want.size);
        }
        // The flat list and path lookup agree.
        expect(btf.memberPath(typeName, want.name!).bitOffset).toBe(got.bitOffset);
        checked++;
      });
      for (const [path, want] of Object.entries(layout.requested)) {
        const loc = btf.memberPath(typeName, path);
        expect({ path, offset: loc.offset, type: btf.typeName(loc.type), size: btf.sizeof(loc.type) }).toEqual({ path, offset: want.offset, type: want.type, size: want.size });
        expect(btf.offsetof(typeName, path)).toBe(want.offset);
        checked++;
      }
    });
  }
});

/** One member line of pahole output: path from the struct, byte offset, size, bitfield position. */
interface PaholeMember { path: string; offset: number; size: number; bit: number | null; bits: number | null }

/** The name a declaration declares: `void (*fn)(int)`, `char comm[16]`, `unsigned int x:1`. */
function declName(decl: string): { name: string; bits: number | null; array: boolean } | null {
  const d = decl.replace(/__attribute__\(\((?:[^()]|\([^()]*\))*\)\)/g, '').replace(/;\s*$/, '').trim();
  const fn = /\(\*\s*(\w+)\)/.exec(d);
  if (fn) return { name: fn[1], bits: null, array: false };
  const bf = /:\s*(\d+)$/.exec(d);
  const noBits = bf ? d.slice(0, bf.index).trim() : d;
  const array = /(\[\d*\])+$/.test(noBits);
  const id = /(\w+)(?:\[\d*\])*$/.exec(noBits);
  return id ? { name: id[1], bits: bf ? Number(bf[1]) : null, array } : null;
}

const COMMENT = /\/\*\s*(\d+)(?::\s*(\d+))?\s+(\d+)\s*\*\/\s*$/;

/** Members of a pahole struct body from line `i`, nested blocks flattened (named ones as `name.`); returns at the closing line. */
function parseBody(lines: string[], i: number, out: PaholeMember[], prefix: string): number {
  for (; i < lines.length; i++) {
    const line = lines[i].trim();
    if (/^(struct|union)\s*\{$/.test(line)) {
      const inner: PaholeMember[] = [];
      const close = parseBody(lines, i + 1, inner, '');
      const closing = lines[close].trim();
      const c = COMMENT.exec(closing);
      const named = declName(closing.replace(COMMENT, '').replace(/^\}/, ''));
      if (named && c) {
        const p = `${prefix}${named.name}`;
        out.push({ path: p, offset: Number(c[1]), size: Number(c[3]), bit: null, bits: null });
        for (const m of inner) out.push({ ...m, path: `${p}${named.array ? '[0]' : ''}.${m.path}` });
      } else {
        for (const m of inner) out.push({ ...m, path: `${prefix}${m.path}` });
      }
      i = close;
      continue;
    }
    if (line.startsWith('}')) return i;
    const c = COMMENT.exec(line);
    if (!c) continue;
    const d = declName(line.replace(COMMENT, ''));
    if (!d) throw new Error(`pahole line not understood: ${line}`);
    out.push({ path: `${prefix}${d.name}`, offset: Number(c[1]), size: Number(c[3]), bit: c[2] === undefined ? null : Number(c[2]), bits: d.bits });
  }
  throw new Error('pahole output ended inside a struct');
}

function pahole(names: string[], file: string, extra: string[] = []): Map<string, { size: number; members: PaholeMember[] }> {
  const text = execFileSync('pahole', [...extra, '-C', names.join(','), file], { encoding: 'utf8' });
  const lines = text.split('\n');
  const out = new Map<string, { size: number; members: PaholeMember[] }>();
  for (let i = 0; i < lines.length; i++) {
    const open = /^(struct|union) (\w+) \{$/.exec(lines[i]);
    if (!open) continue;
    const members: PaholeMember[] = [];
    const close = parseBody(lines, i + 1, members, '');
    const sizeLine = lines.slice(i, close).find((l) => /\/\* size: \d+/.test(l));
    if (!sizeLine) throw new Error(`pahole gave no size for ${open[2]}`);
    out.set(`${open[1]} ${open[2]}`, { size: Number(/size: (\d+)/.exec(sizeLine)![1]), members });
    i = close;
  }
  return out;
}

describe('pahole as oracle', () => {
  const structs = ['task_struct', 'rq', 'mm_struct', 'page', 'sk_buff', 'inode', 'file', 'cfs_rq', 'kernfs_node', 'cgroup', 'signal_struct', 'super_block'];
  let oracle: Map<string, { size: number; members: PaholeMember[] }>;
  beforeAll(() => { oracle = pahole(structs, btfPath); });

  it('agrees on size and every member (nested anonymous, named inline structs, bitfields)', () => {
    let members = 0, bitfields = 0;
    expect([...oracle.keys()].sort()).toEqual(structs.map((s) => `struct ${s}`).sort());
    for (const [name, want] of oracle) {
      expect(btf.sizeof(name), name).toBe(want.size);
      expect(want.members.length).toBeGreaterThan(0);
      for (const m of want.members) {
        const loc = btf.memberPath(name, m.path);
        if (m.bits !== null) {
          expect({ name, path: m.path, bitOffset: loc.bitOffset, bitSize: loc.bitSize }).toEqual({ name, path: m.path, bitOffset: m.offset * 8 + m.bit!, bitSize: m.bits });
          bitfields++;
        } else {
          expect({ name, path: m.path, offset: loc.offset, size: btf.sizeof(loc.type), bit: loc.bitSize }).toEqual({ name, path: m.path, offset: m.offset, size: m.size, bit: null });
        }
        members++;
      }
    }
    console.log(`pahole: ${members} members (${bitfields} bitfields) over ${oracle.size} structs agree`);
    expect(bitfields).toBeGreaterThan(50);
    // The oracle really reached into nested blocks: a named inline struct, and anonymous ones three deep.
    const paths = (s: string): string[] => oracle.get(`struct ${s}`)!.members.map((m) => m.path);
    expect(paths('cfs_rq')).toContain('removed.lock');
    expect(paths('page')).toEqual(expect.arrayContaining(['mlock_count', 'pt_mm', 'compound_head']));
    expect(paths('sk_buff').some((p) => p.startsWith('headers.'))).toBe(true);
  });
});

describe('lookups', () => {
  it('finds types by C name, tolerantly unless exact', () => {
    expect(btf.findType('task_struct')).toBe(taskStruct);
    expect(btf.findType('task_struct', { exact: true })).toBeNull();
    expect(btf.findType('  struct   task_struct ')).toBe(taskStruct);
    expect(btf.describe(btf.getType('union rcu_special')).kind).toBe('union');
    expect(btf.describe(btf.getType('enum pid_type')).kind).toBe('enum');
    expect(btf.findType('struct no_such_struct_xyz')).toBeNull();
    expect(() => btf.getType('no_such_type_xyz')).toThrow(TypeLookupError);
    expect(() => btf.describe(btf.typeCount)).toThrow(TypeLookupError);
    expect(() => btf.describe(-1)).toThrow(TypeLookupError);
  });

  it('spells base types either way', () => {
    const ul = btf.getType('unsigned long');
    expect(btf.findType('long unsigned int')).toBe(ul);
    expect(btf.describe(ul)).toMatchObject({ kind: 'int', size: 8, signed: false });
    expect(btf.typeName(ul)).toBe('unsigned long');
    expect(btf.findType('unsigned')).toBe(btf.findType('unsigned int'));
    expect(btf.describe(btf.getType('char'))).toMatchObject({ kind: 'int', size: 1, isChar: true });
    expect(btf.describe(btf.getType('unsigned char'))).toMatchObject({ kind: 'int', size: 1, isChar: true, signed: false });
    expect(btf.describe(btf.getType('int'))).toMatchObject({ kind: 'int', size: 4, signed: true, isChar: false });
    expect(btf.describe(btf.getType('_Bool'))).toMatchObject({ kind: 'int', isBool: true });
    expect(btf.getType('void')).toBe(0);
    expect(() => btf.sizeof('void')).toThrow(TypeLookupError);
  });

  it('resolves typedefs', () => {
    const spin = btf.getType('spinlock_t');
    expect(btf.describe(spin)).toMatchObject({ kind: 'typedef', name: 'spinlock_t' });
    expect(btf.resolved('spinlock_t')).toMatchObject({ kind: 'struct', name: 'spinlock', size: 4 });
    expect(btf.typeName('spinlock_t')).toBe('spinlock_t');
    // spinlock's only member is an anonymous union: its members are reachable by name.
    expect(btf.memberPath('spinlock_t', 'rlock.raw_lock').offset).toBe(0);
    expect(btf.resolved('atomic_long_t')).toMatchObject({ kind: 'struct', size: 8 });
    expect(btf.typeName(btf.memberPath('atomic_long_t', 'counter').type)).toBe('s64');
    expect(btf.resolved('pid_t')).toMatchObject({ kind: 'int', size: 4, signed: true });
    expect(btf.sizeof('u64')).toBe(8);
  });

  it('finds enumerators across all enums, 64-bit ones too', () => {
    expect(btf.enumValue('TASK_COMM_LEN')).toBe(16n);
    expect(btf.enumValue('PIDTYPE_PID')).toBe(0n);
    expect(btf.enumName('enum pid_type', 0)).toBe('PIDTYPE_PID');
    expect(btf.enumName('enum pid_type', 999)).toBeNull();
    // CGROUP_SUBSYS_COUNT sizes cgroup.subsys[]: two independent ways to the same number.
    const subsys = btf.resolved(btf.memberPath('struct cgroup', 'subsys').type);
    expect(subsys.kind === 'array' && BigInt(subsys.length)).toBe(btf.enumValue('CGROUP_SUBSYS_COUNT'));
    expect(btf.enumValue('CGROUP_SUBSYS_COUNT')).toBe(14n);
    // uapi bpf.h: (0xfffffULL << 32) only fits an ENUM64.
    expect(btf.enumValue('BPF_F_CTXLEN_MASK')).toBe(0xfffffn << 32n);
    expect(btf.findEnumerator('NO_SUCH_ENUMERATOR_XYZ')).toBeNull();
    expect(() => btf.enumValue('NO_SUCH_ENUMERATOR_XYZ')).toThrow(TypeLookupError);
  });

  it('reads bitfields', () => {
    const fork = btf.memberPath('task_struct', 'sched_reset_on_fork');
    expect(fork).toMatchObject({ offset: 2340, bitOffset: 2340 * 8, bitSize: 1 });
    expect(btf.typeName(fork.type)).toBe('unsigned int');
    expect(btf.memberPath('task_struct', 'in_thrashing')).toMatchObject({ offset: 2345, bitOffset: 2344 * 8 + 14, bitSize: 1 });
    expect(btf.memberPath('sk_buff', 'fclone').bitSize).toBe(2);
  });

  it('follows field-alias chains and caches paths', () => {
    expect(btf.resolveMember('task_struct', ['__state', 'state'])).toMatchObject({ path: '__state', offset: 24 });
    // `state` is gone in 6.1: the chain falls through to the new name.
    expect(btf.resolveMember('task_struct', ['state', '__state']).path).toBe('__state');
    expect(btf.tryResolveMember('task_struct', ['state', 'no_such'])).toBeNull();
    expect(() => btf.resolveMember('task_struct', ['state', 'no_such'])).toThrow(/'state', 'no_such'/);
    expect(btf.resolveMember('task_struct', ['__state', 'state'])).toBe(btf.resolveMember(taskStruct!, ['__state', 'state']));
    expect(btf.memberPath('task_struct', 'se.vruntime')).toBe(btf.memberPath('task_struct', 'se.vruntime'));
    expect(btf.hasMember('task_struct', 'state')).toBe(false);
  });

  it('walks array indexes and rejects what is not a member path', () => {
    expect(btf.offsetof('task_struct', 'comm[3]')).toBe(2976 + 3);
    expect(btf.offsetof('task_struct', 'cpus_mask.bits[1]')).toBe(btf.offsetof('task_struct', 'cpus_mask') + 8);
    expect(() => btf.memberPath('task_struct', 'comm[16]')).toThrow(/past the end/);
    expect(() => btf.memberPath('task_struct', 'mm.pgd')).toThrow(/not a struct or union/);
    expect(() => btf.memberPath('task_struct', 'se..vruntime')).toThrow(/bad member path/);
    expect(() => btf.memberPath('task_struct', '.se')).toThrow(/bad member path/);
    expect(() => btf.memberPath('task_struct', 'no_such_member')).toThrow(/has no member 'no_such_member'/);
    expect(() => btf.members('unsigned long')).toThrow(/not a struct or union/);
  });

  it('names types as C does', () => {
    expect(btf.typeName(btf.memberPath('sk_buff', 'destructor').type)).toBe('void (*)(struct sk_buff *)');
    expect(btf.typeName(btf.memberPath('cgroup', 'ancestors').type)).toBe('struct cgroup *[]');
    expect(btf.typeName(btf.memberPath('kernfs_node', 'name').type)).toBe('const char *');
    expect(btf.typeName(btf.memberPath('cfs_rq', 'removed').type)).toBe('struct <anonymous>');
  });

  it('finds functions and per-cpu variables', () => {
    const sched = btf.findFunction('schedule');
    expect(sched && btf.typeName(sched.type)).toBe('void (void)');
    const panic = btf.findFunction('panic');
    expect(panic && btf.describe(panic.type)).toMatchObject({ kind: 'function', variadic: true });
    expect(btf.findFunction('no_such_function_xyz')).toBeNull();
    // .data..percpu offsets are what System.map lists for per-cpu symbols.
    const map = readFileSync(join(kernelDir, 'System.map-6.1.0-54-cloud-amd64'), 'utf8');
    for (const name of ['runqueues', 'cpu_tlbstate']) {
      const v = btf.findVariable(name);
      const addr = new RegExp(`^([0-9a-f]+) \\w ${name}$`, 'm').exec(map);
      expect(v).toMatchObject({ section: '.data..percpu', sectionOffset: Number.parseInt(addr![1], 16) });
    }
    expect(btf.typeName(btf.findVariable('runqueues')!.type)).toBe('struct rq');
    // FUNC records are symbols, not types.
    let funcId = 1;
    while (btf.kindOf(funcId) !== 'FUNC') funcId++;
    expect(() => btf.describe(funcId)).toThrow(/FUNC record, not a type/);
  });
});

describe('split BTF (a module, encoded by pahole at test time)', () => {
  let dir: string;
  let mod: BtfTypes;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vaat-btf-'));
    const out = join(dir, 'vaat_oops.btf');
    execFileSync('pahole', [`--btf_base=${btfPath}`, `--btf_encode_detached=${out}`, join(kernelDir, 'modules', 'vaat_oops.ko')]);
    mod = parseBtf(readFileSync(out), { base: btf, label: out });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('continues the base ids and strings, and agrees with pahole', () => {
    expect(mod.firstId).toBe(btf.typeCount);
    const own = mod.findType('struct vaat_request');
    expect(own).not.toBeNull();
    expect(own!).toBeGreaterThanOrEqual(mod.firstId);
    // Base types come through the module's view unchanged.
    expect(mod.findType('struct task_struct')).toBe(taskStruct);
    expect(mod.sizeof('struct task_struct')).toBe(9728);
    expect(btf.findType('struct vaat_request')).toBeNull();
    const oracle = pahole(['vaat_request', 'vaat_stats', 'vaat_hdr'], join(dir, 'vaat_oops.btf'), [`--btf_base=${btfPath}`, '-F', 'btf']);
    expect(oracle.size).toBe(3);
    for (const [name, want] of oracle) {
      expect(mod.sizeof(name)).toBe(want.size);
      for (const m of want.members) {
        const loc = mod.memberPath(name, m.path);
        expect([name, m.path, loc.offset, m.bits === null ? mod.sizeof(loc.type) : m.size]).toEqual([name, m.path, m.offset, m.size]);
      }
    }
  });
});

describe('finding and rejecting BTF bytes', () => {
  it('finds BTF inside a larger buffer, past a false magic', () => {
    const junk = Buffer.alloc(4099, 0x5a);
    junk.writeUInt16LE(0xeb9f, 100); // magic with a garbage header
    junk[102] = 1;
    const big = Buffer.concat([junk, raw, Buffer.alloc(333, 0xff)]);
    const loc = findBtfInBuffer(big);
    expect(loc).toMatchObject({ offset: junk.length, length: raw.length });
    const again = parseBtf(big.subarray(loc!.offset, loc!.offset + loc!.length));
    expect(again.sizeof('struct rq')).toBe(layouts.types['struct rq'].size);
    expect(findBtfInBuffer(Buffer.alloc(1 << 16, 0x5a))).toBeNull();
  });

  const copy = (): Buffer => Buffer.from(raw); // never touch the fixture's bytes
  it('throws BtfError for a truncated blob', () => {
    expect(() => parseBtf(raw.subarray(0, 10))).toThrow(/truncated/);
    expect(() => parseBtf(raw.subarray(0, raw.length >> 1))).toThrow(BtfError);
    expect(() => parseBtf(raw.subarray(0, 0))).toThrow(BtfError);
  });
  it('throws BtfError for a bad magic or version', () => {
    const b = copy(); b[0] = 0x00;
    expect(() => parseBtf(b)).toThrow(/bad magic/);
    const v = copy(); v[2] = 2;
    expect(() => parseBtf(v)).toThrow(/version 2/);
  });
  it('throws BtfError for sections outside the buffer', () => {
    const b = copy(); b.writeUInt32LE(raw.length, 8); // type_off
    expect(() => parseBtf(b)).toThrow(/type section .* runs past/);
    const s = copy(); s.writeUInt32LE(raw.readUInt32LE(20) + 1, 20); // str_len
    expect(() => parseBtf(s)).toThrow(/string section .* runs past/);
    const h = copy(); h.writeUInt32LE(16, 4); // hdr_len
    expect(() => parseBtf(h)).toThrow(/header length 16/);
  });
  it('throws BtfError for a corrupt type record, on load or on first use', () => {
    const typeStart = raw.readUInt32LE(4) + raw.readUInt32LE(8);
    const k = copy(); k.writeUInt32LE((31 << 24) >>> 0, typeStart + 4); // kind 31
    expect(() => parseBtf(k)).toThrow(/unknown kind 31/);
    const n = copy(); n.writeUInt32LE(0xfffffff0, typeStart); // name offset of type 1
    expect(() => parseBtf(n).describe(1)).toThrow(/name offset/);
    // Point task_struct's first member at a type id that does not exist.
    const ts = copy();
    const at = findRecord(ts, taskStruct!);
    ts.writeUInt32LE(0x7fffffff, at + 12 + 4);
    const bad = parseBtf(ts);
    expect(() => bad.members('struct task_struct')).toThrow(/type id 2147483647/);
    expect(bad.sizeof('struct rq')).toBe(layouts.types['struct rq'].size); // the rest still answers
  });
});

/** Byte offset of a type record in a copy of vmlinux.btf (walking records as the parser does). */
function findRecord(b: Buffer, id: number): number {
  let pos = b.readUInt32LE(4) + b.readUInt32LE(8);
  for (let i = 1; i < id; i++) {
    const info = b.readUInt32LE(pos + 4);
    const kind = (info >>> 24) & 0x1f, vlen = info & 0xffff;
    const extra = [0, 4, 0, 12, 12 * vlen, 12 * vlen, 8 * vlen, 0, 0, 0, 0, 0, 0, 8 * vlen, 4, 12 * vlen, 0, 4, 0, 12 * vlen][kind];
    pos += 12 + extra;
  }
  return pos;
}
