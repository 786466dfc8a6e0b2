/**
 * DWARF types from Debian's debug vmlinux of the fixtures' kernel, against three oracles: layouts.json
 * (drgn on the same DWARF), the kernel's BTF (every member of the main structs), and pahole reading
 * the same vmlinux. Then the build-id cache (one cold extraction per run, in a temporary
 * XDG_CACHE_HOME), refusing another build's vmlinux, and damaged input — the latter on small ELF
 * files gcc compiles here, which also cover DWARF 2's DW_AT_bit_offset bitfields.
 *
 * Without linux-image-6.1.0-54-cloud-amd64-dbg the vmlinux tests are skipped, and say why in their names.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dumps, kernelDir } from './fixtures.js';
import { parseBtf } from '../src/types/btf.js';
import { DwarfError, DwarfIndexError, DwarfTypes } from '../src/types/dwarf.js';
import { checkVmlinux, DebuginfoMismatchError, debuginfoCandidates, dwarfTypesForDump, findVmlinux } from '../src/types/debuginfo.js';
import { loadDwarfIndex, nativeDwarf, nativeExtractions, readTypeCache, typeCachePath, writeTypeCache, type LoadedDwarfIndex } from '../src/types/type-cache.js';
import type { TypeInfo } from '../src/types/typeinfo.js';
import { openVmcore } from '../src/vmcore.js';

const RELEASE = '6.1.0-54-cloud-amd64';
const VMLINUX = `/usr/lib/debug/boot/vmlinux-${RELEASE}`;
const hasDbg = existsSync(VMLINUX);
const NEEDS_DBG = hasDbg ? '' : ` (SKIPPED: needs linux-image-${RELEASE}-dbg: ${VMLINUX} not installed)`;
const hasGcc = (() => { try { execFileSync('gcc', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const NEEDS_GCC = hasGcc ? '' : ' (SKIPPED: needs gcc: not installed)';
// Said once in plain sight too: the default reporter only counts skipped tests.
if (!hasDbg || !hasGcc) console.warn(`test/dwarf.test.ts: skipping tests:${NEEDS_DBG}${NEEDS_GCC}`);

const buildId = readFileSync(join(kernelDir, 'vmlinux.build-id'), 'utf8').trim();
const btf = parseBtf(readFileSync(join(kernelDir, 'vmlinux.btf')), { label: 'vmlinux.btf' });
const koPath = join(kernelDir, 'modules', 'vaat_oops.ko');
const dump = dumps.find((d) => d.name === 'vmcore.kdump-lzo')!;

// Every cache write of this run goes to a fresh directory: the first load is really cold.
const cacheHome = mkdtempSync(join(tmpdir(), 'vaat-dwarf-cache-'));
process.env.XDG_CACHE_HOME = cacheHome;
const work = mkdtempSync(join(tmpdir(), 'vaat-dwarf-'));
afterAll(() => { rmSync(cacheHome, { recursive: true, force: true }); rmSync(work, { recursive: true, force: true }); });

interface LayoutMember { name?: string; offset: number; type: string; size?: number | null; bit_offset?: number; bit_field_size?: number; in_unnamed?: 'struct' | 'union' }
interface Layouts { types: Record<string, { size: number; requested: Record<string, LayoutMember>; members: LayoutMember[] }> }
const layouts = JSON.parse(readFileSync(join(kernelDir, 'layouts.json'), 'utf8')) as Layouts;
const MAIN_STRUCTS = ['task_struct', 'rq', 'cfs_rq', 'sched_entity', 'mutex', 'rw_semaphore', 'cgroup', 'cgroup_subsys_state', 'css_set', 'cpuset', 'mem_cgroup', 'tlb_state'];

// One cold extraction and one warm load, at module load so every test below shares them.
let cold: LoadedDwarfIndex | undefined, warm: LoadedDwarfIndex | undefined, dwarf: DwarfTypes | undefined;
let extractionsAfterCold = 0;
if (hasDbg) {
  cold = loadDwarfIndex(VMLINUX);
  extractionsAfterCold = nativeExtractions();
  warm = loadDwarfIndex(VMLINUX);
  dwarf = new DwarfTypes(warm.index, { label: VMLINUX });
}
const dw = (): DwarfTypes => dwarf!;

describe(`DWARF index of the debug vmlinux`, () => {
  it.skipIf(!hasDbg)(`extracts once, then loads from the build-id cache without extracting${NEEDS_DBG}`, () => {
    const c = cold!, w = warm!;
    const file = typeCachePath(buildId)!;
    console.log(`DWARF: cold extraction ${c.stats!.ms.toFixed(0)} ms native (${c.ms.toFixed(0)} ms with the cache write), ` +
      `warm load ${w.ms.toFixed(1)} ms; index ${(c.index.length / 2 ** 20).toFixed(1)} MiB, cache file ${(readFileSync(file).length / 2 ** 20).toFixed(1)} MiB; ` +
      `${c.stats!.cus} CUs → ${c.stats!.types} types, ${c.stats!.items} members/params/enumerators, ${c.stats!.variables} variables, ` +
      `${c.stats!.functions} functions; ${c.stats!.fwdResolved} declarations resolved, ${c.stats!.merged} merged after`);
    expect(c.from).toBe('vmlinux');
    expect(c.cacheFile).toBe(file);
    expect(extractionsAfterCold).toBe(1);
    expect(w.from).toBe('cache');
    expect(nativeExtractions()).toBe(1); // the warm path never ran the extractor
    expect(Buffer.compare(w.index, c.index)).toBe(0);
    expect(c.buildId).toBe(buildId);
    expect(dw().buildId).toBe(buildId);
    expect(dw().pointerSize).toBe(8);
  });

  it.skipIf(!hasDbg)(`reads the vmlinux's identity: build-id and release${NEEDS_DBG}`, () => {
    expect(nativeDwarf().elfIdentity(VMLINUX)).toEqual({ buildId, release: RELEASE, hasDebugInfo: true, type: 'exec' });
    expect(checkVmlinux(VMLINUX, { buildId, release: RELEASE }).matchedBy).toBe('build-id');
    expect(checkVmlinux(VMLINUX, { release: RELEASE }).matchedBy).toBe('release');
    expect(findVmlinux({ buildId, release: RELEASE }).match?.path).toBe(VMLINUX);
  });
});

/** Flat members of a struct as one comparable record each. */
function flat(t: TypeInfo, name: string): { name: string; offset: number; bitOffset: number; bitSize: number | null; type: string; inUnnamed: string | null }[] {
  return t.members(name).map((m) => ({ name: m.name, offset: m.offset, bitOffset: m.bitOffset, bitSize: m.bitSize, type: t.typeName(m.type), inUnnamed: m.inUnnamed }));
}

describe(`layouts.json (drgn on the same DWARF)`, () => {
  for (const [typeName, layout] of Object.entries(layouts.types)) {
    it.skipIf(!hasDbg)(`${typeName}: size, every member in order, requested paths${NEEDS_DBG}`, () => {
      const t = dw();
      expect(t.sizeof(typeName)).toBe(layout.size);
      const got = t.members(typeName);
      expect(got.map((m) => m.name)).toEqual(layout.members.map((m) => m.name));
      layout.members.forEach((want, i) => {
        const m = got[i];
        expect({ name: m.name, offset: m.offset, type: t.typeName(m.type), inUnnamed: m.inUnnamed })
          .toEqual({ name: want.name, offset: want.offset, type: want.type, inUnnamed: want.in_unnamed ?? null });
        if (want.bit_field_size !== undefined) expect([m.bitOffset, m.bitSize]).toEqual([want.bit_offset, want.bit_field_size]);
        else if (want.size === null) expect(t.resolved(m.type)).toMatchObject({ kind: 'array', length: 0 });
        else expect(t.sizeof(m.type)).toBe(want.size);
      });
      for (const [path, want] of Object.entries(layout.requested)) {
        const loc = t.memberPath(typeName, path);
        expect({ path, offset: loc.offset, type: t.typeName(loc.type), size: t.sizeof(loc.type) }).toEqual({ path, offset: want.offset, type: want.type, size: want.size });
      }
    });
  }
});

describe(`BTF of the same kernel agrees member by member`, () => {
  it.skipIf(!hasDbg)(`sizes, offsets, bitfields and type names of ${MAIN_STRUCTS.length} structs and everything they embed${NEEDS_DBG}`, () => {
    const t = dw();
    let members = 0;
    const seen = new Set<string>();
    // Structs and unions reached by value from the main ones are compared too.
    const queue = MAIN_STRUCTS.map((s) => `struct ${s}`);
    while (queue.length) {
      const name = queue.shift()!;
      if (seen.has(name)) continue;
      seen.add(name);
      expect([name, t.sizeof(name)]).toEqual([name, btf.sizeof(name)]);
      const a = flat(t, name), b = flat(btf, name);
      expect(a).toEqual(b);
      members += a.length;
      for (const m of t.members(name)) {
        let r = t.resolved(m.type);
        while (r.kind === 'array') r = t.resolved(r.element);
        if ((r.kind === 'struct' || r.kind === 'union') && r.name) queue.push(`${r.kind} ${r.name}`);
      }
    }
    console.log(`BTF vs DWARF: ${members} members of ${seen.size} structs/unions agree`);
    expect(seen.size).toBeGreaterThan(50);
  });
});

const ATTRIBUTE = /\s*__attribute__\(\((?:[^()]|\([^()]*\))*\)\)/g;

interface PaholeMember { path: string; offset: number; size: number; bit: number | null; bits: number | null }

/** pahole's members of one struct: dotted paths (through named inline structs), byte offset, size, bit position and width. */
function paholeMembers(struct: string, file: string): { size: number; members: PaholeMember[] } {
  const lines = execFileSync('pahole', ['-C', struct, file], { encoding: 'utf8' }).split('\n');
  const comment = /\/\*\s*(\d+)(?::\s*(\d+))?\s+(\d+)\s*\*\/\s*$/;
  const members: PaholeMember[] = [];
  const starts: number[] = []; // where each open inline block's members begin in `members`
  let size = -1;
  for (const raw of lines.slice(1)) {
    const line = raw.replace(ATTRIBUTE, '').trim();
    const sz = /\/\* size: (\d+)/.exec(line);
    if (sz && starts.length === 0) size = Number(sz[1]);
    if (/^(struct|union)\s*\{$/.test(line)) { starts.push(members.length); continue; }
    const c = comment.exec(line);
    if (line.startsWith('}')) {
      const start = starts.pop();
      // `} name;` closes a named inline struct: its members so far get `name.` in front.
      const named = /^\}\s*(\w+)(\[\d+\])?\s*;/.exec(line);
      if (start !== undefined && named && c) {
        const prefix = `${named[1]}${named[2] ? '[0]' : ''}.`;
        for (let i = start; i < members.length; i++) members[i].path = prefix + members[i].path;
        members.splice(start, 0, { path: named[1], offset: Number(c[1]), size: Number(c[3]), bit: null, bits: null });
      }
      continue;
    }
    if (!c) continue;
    const decl = line.replace(comment, '').replace(/;\s*$/, '').trim();
    const fn = /\(\*\s*(\w+)\)/.exec(decl);
    const bf = /:\s*(\d+)$/.exec(decl);
    const id = fn ? fn[1] : /(\w+)(?:\[\d*\])*$/.exec(bf ? decl.slice(0, bf.index).trim() : decl)?.[1];
    if (!id) throw new Error(`pahole line not understood: ${line}`);
    members.push({ path: id, offset: Number(c[1]), size: Number(c[3]), bit: c[2] === undefined ? null : Number(c[2]), bits: bf ? Number(bf[1]) : null });
  }
  return { size, members };
}

describe(`pahole reading the same vmlinux`, () => {
  it.skipIf(!hasDbg)(`agrees on size and every direct and anonymous-nested member${NEEDS_DBG}`, () => {
    const t = dw();
    let n = 0, bitfields = 0;
    const paths = new Set<string>();
    for (const s of MAIN_STRUCTS) {
      const p = paholeMembers(s, VMLINUX);
      expect([s, t.sizeof(`struct ${s}`)]).toEqual([s, p.size]);
      expect(p.members.length).toBeGreaterThan(0);
      for (const want of p.members) {
        const path = want.path;
        const loc = t.memberPath(`struct ${s}`, path);
        paths.add(`${s}:${path}`);
        if (want.bits !== null) {
          expect([s, path, loc.bitOffset, loc.bitSize]).toEqual([s, path, want.offset * 8 + want.bit!, want.bits]);
          bitfields++;
        } else {
          expect([s, path, loc.offset, loc.bitSize]).toEqual([s, path, want.offset, null]);
          const r = t.resolved(loc.type);
          // pahole prints 0 for a flexible array member's size
          if (!(r.kind === 'array' && r.length === 0)) expect([s, path, t.sizeof(loc.type)]).toEqual([s, path, want.size]);
        }
        n++;
      }
    }
    console.log(`pahole (DWARF): ${n} members (${bitfields} bitfields) of ${MAIN_STRUCTS.length} structs agree`);
    expect(bitfields).toBeGreaterThan(15);
    expect(paths.has('cfs_rq:removed.lock')).toBe(true); // the parser reached into a named inline struct
  });
});

describe(`variables, functions, enumerators, lookups`, () => {
  it.skipIf(!hasDbg)(`knows global variables' types, where BTF knows only per-cpu ones${NEEDS_DBG}`, () => {
    const t = dw();
    const ty = (name: string): string => t.typeName(t.findVariable(name)!.type);
    expect(ty('init_task')).toBe('struct task_struct');
    expect(t.findVariable('init_task')).toMatchObject({ linkage: 'global', section: '.data' });
    expect(btf.findVariable('init_task')).toBeNull();
    expect(ty('cgroup_mutex')).toBe('struct mutex');
    // jiffies is a linker-script alias: only extern declarations exist
    expect(ty('jiffies')).toBe('volatile unsigned long');
    expect(t.findVariable('jiffies')!.linkage).toBe('extern');
    expect(ty('init_css_set')).toBe('struct css_set');
    expect(ty('cgrp_dfl_root')).toBe('struct cgroup_root');
    expect(t.typeName(t.findVariable('__per_cpu_offset')!.type)).toBe('unsigned long [8192]');
    expect(t.findVariable('no_such_variable_xyz')).toBeNull();
    // Per-cpu variables: the same section offsets as BTF's DATASEC and System.map.
    for (const name of ['runqueues', 'cpu_tlbstate']) {
      const a = t.findVariable(name)!, b = btf.findVariable(name)!;
      expect({ name, type: t.typeName(a.type), section: a.section, off: a.sectionOffset }).toEqual({ name, type: btf.typeName(b.type), section: b.section, off: b.sectionOffset });
    }
  });

  it.skipIf(!hasDbg)(`finds functions with prototypes and parameter names${NEEDS_DBG}`, () => {
    const t = dw();
    expect(t.typeName(t.findFunction('schedule')!.type)).toBe('void (void)');
    expect(t.describe(t.findFunction('panic')!.type)).toMatchObject({ kind: 'function', variadic: true });
    const wake = t.describe(t.findFunction('wake_up_process')!.type);
    expect(wake.kind === 'function' && wake.params.map((p) => [p.name, t.typeName(p.type)])).toEqual([['p', 'struct task_struct *']]);
    expect(t.findFunction('wake_up_process')!.linkage).toBe('global');
    expect(t.findFunction('no_such_function_xyz')).toBeNull();
  });

  it.skipIf(!hasDbg)(`finds enumerators, 64-bit and anonymous-enum ones too${NEEDS_DBG}`, () => {
    const t = dw();
    expect(t.enumValue('TASK_COMM_LEN')).toBe(16n);
    expect(t.enumValue('CGROUP_SUBSYS_COUNT')).toBe(14n);
    expect(t.enumValue('BPF_F_CTXLEN_MASK')).toBe(0xfffffn << 32n);
    expect(t.enumName('enum pid_type', 0)).toBe('PIDTYPE_PID');
    expect(t.findEnumerator('NO_SUCH_ENUMERATOR_XYZ')).toBeNull();
  });

  it.skipIf(!hasDbg)(`spells names as BTF does and resolves declarations to definitions${NEEDS_DBG}`, () => {
    const t = dw();
    const ul = t.getType('unsigned long');
    expect(t.findType('long unsigned int')).toBe(ul);
    expect(t.describe(ul)).toMatchObject({ kind: 'int', size: 8, signed: false });
    expect(t.describe(t.getType('char'))).toMatchObject({ kind: 'int', size: 1, isChar: true });
    expect(t.describe(t.getType('_Bool'))).toMatchObject({ kind: 'int', isBool: true });
    expect(t.resolved('spinlock_t')).toMatchObject({ kind: 'struct', name: 'spinlock', size: 4 });
    expect(t.findType('task_struct', { exact: true })).toBeNull();
    expect(t.getType('void')).toBe(0);
    // A pointer member always leads to the definition, never to a bare declaration.
    const mm = t.resolved(t.memberPath('task_struct', 'mm').type);
    expect(mm.kind === 'pointer' && t.resolved(mm.target)).toMatchObject({ kind: 'struct', name: 'mm_struct', size: btf.sizeof('struct mm_struct') });
    // Multi-dimensional arrays are arrays of arrays, as in BTF.
    for (const [s, m] of [['struct tlb_state', 'ctxs'], ['struct task_struct', 'comm']] as const) expect(t.typeName(t.memberPath(s, m).type)).toBe(btf.typeName(btf.memberPath(s, m).type));
    const names = ['sk_buff', 'page', 'inode', 'file', 'super_block', 'signal_struct', 'kernfs_node', 'module', 'mm_struct'];
    for (const s of names) expect([s, t.sizeof(`struct ${s}`)]).toEqual([s, btf.sizeof(`struct ${s}`)]);
  });
});

describe(`vmcore integration`, () => {
  it.skipIf(!hasDbg)(`vm.types and vm.object() use DWARF when given a vmlinux, BTF without${NEEDS_DBG}`, () => {
    const vm = openVmcore(dump.path, { vmlinux: VMLINUX });
    const plain = openVmcore(dump.path, { vmlinux: false });
    try {
      expect(vm.types.source).toBe('dwarf');
      expect(vm.sources().types).toMatch(new RegExp(`^DWARF ${VMLINUX} \\(build-id ${buildId}; index from cache `));
      expect(vm.object('init_task').member('comm').string()).toBe('swapper/0');
      expect(vm.object('init_task').member('pid').number()).toBe(0);
      // BTF has no type for init_task: without DWARF it comes from the well-known table, if at all.
      expect(plain.types.source).toBe('btf');
      expect(plain.sources().types).toMatch(/BTF in the dump/);
      expect(vm.object('cgroup_mutex').type).toBe(vm.types.getType('struct mutex'));
      const found = dwarfTypesForDump({ buildId: vm.vmcoreinfo.buildId, release: vm.vmcoreinfo.osrelease });
      expect(found?.match).toMatchObject({ path: VMLINUX, matchedBy: 'build-id' });
      expect(dwarfTypesForDump({ buildId, release: RELEASE }, { btf: '/x.btf' })).toBeNull(); // an explicit BTF wins over discovery
    } finally {
      vm.close();
      plain.close();
    }
    expect(nativeExtractions()).toBe(1);
  });
});

describe('refusing the wrong vmlinux', () => {
  it(`a module's .ko given as the dump's vmlinux: one line naming the file and both build-ids`, () => {
    const koId = nativeDwarf().elfIdentity(koPath).buildId!;
    expect(koId).toMatch(/^[0-9a-f]{40}$/);
    expect(koId).not.toBe(buildId);
    const vm = openVmcore(dump.path, { vmlinux: koPath });
    try {
      let err: unknown;
      try { void vm.types; } catch (e) { err = e; }
      expect(err).toBeInstanceOf(DebuginfoMismatchError);
      const msg = (err as Error).message;
      expect(msg).not.toContain('\n');
      expect(msg).toContain(koPath);
      expect(msg).toContain(koId);
      expect(msg).toContain(buildId);
      expect(vm.sources().types).toMatch(/^unavailable: .*does not match/);
    } finally {
      vm.close();
    }
  });

  it('refuses by release string when a side has no build-id, and searches the standard places', () => {
    expect(() => checkVmlinux(koPath, { release: '5.10.0-99-amd64' })).toThrow(DebuginfoMismatchError);
    expect(debuginfoCandidates({ buildId: 'BC6A64c9', release: RELEASE }, '/r')).toEqual([
      '/r/usr/lib/debug/.build-id/bc/6a64c9.debug', `/r/usr/lib/debug/boot/vmlinux-${RELEASE}`,
      `/r/usr/lib/debug/lib/modules/${RELEASE}/vmlinux`, `/r/boot/vmlinux-${RELEASE}`, `/r/lib/modules/${RELEASE}/build/vmlinux`,
    ]);
    expect(debuginfoCandidates({ release: '../../etc' })).toEqual([]);
    // A mismatching file in a standard place is passed over, not used.
    const root = join(work, 'root');
    execFileSync('mkdir', ['-p', join(root, 'boot')]);
    copyFileSync(koPath, join(root, 'boot', `vmlinux-${RELEASE}`));
    const r = findVmlinux({ buildId, release: RELEASE }, root);
    expect(r.match).toBeNull();
    expect(r.skipped[0]).toMatch(/does not match/);
  });

  it('gives a clear error for files that are not ELF', () => {
    const notElf = join(kernelDir, 'layouts.json');
    expect(() => checkVmlinux(notElf, { buildId })).toThrow(DwarfError);
    expect(() => checkVmlinux(notElf, { buildId })).toThrow(/not an ELF file/);
    expect(() => loadDwarfIndex(notElf)).toThrow(expect.objectContaining({ code: 'NOT_ELF' }));
    expect(() => loadDwarfIndex(join(work, 'missing'))).toThrow(expect.objectContaining({ code: 'IO' }));
  });
});

// A small C program compiled here: exact layouts known, every DWARF version gcc writes.
const C_SOURCE = `
#include <stdarg.h>
struct node { struct node *next; int v; };
struct bits {
  unsigned int a : 3;
  unsigned int b : 5;
  int c : 7;
  unsigned char d;
  unsigned long long e : 40;
  unsigned short f : 4;
  union { int u1; struct { short s1, s2; }; };
  long grid[2][3][4];
  void (*cb)(struct bits *, int);
  struct node *head;
  char tail[];
};
enum small { NEG = -2, ZERO = 0, POS = 5 };
enum big { BIGV = 0xfffff00000000000ULL };
typedef const volatile struct bits cvbits_t;
struct bits global_bits;
cvbits_t *global_ptr;
enum small global_small;
enum big global_big;
__attribute__((section("vaat_sec"))) int sec_first = 1;
__attribute__((section("vaat_sec"))) int sec_var = 5;
int sum(int n, ...) { va_list ap; va_start(ap, n); int s = va_arg(ap, int); va_end(ap); return s + n; }
int main(void) { return sum(1, 2) + global_bits.a + (global_ptr != 0); }
`;

function compile(flags: string[], name: string): string {
  const src = join(work, 'bits.c');
  writeFileSync(src, C_SOURCE);
  const out = join(work, name);
  execFileSync('gcc', ['-O0', ...flags, '-Wl,--build-id=sha1', '-o', out, src]);
  return out;
}

describe('small ELF files gcc compiles here', () => {
  const variants: [string, string[]][] = [['dwarf5', ['-gdwarf-5']], ['dwarf4', ['-gdwarf-4']], ['dwarf2-strict', ['-gdwarf-2', '-gstrict-dwarf']]];
  for (const [label, flags] of variants) {
    it.skipIf(!hasGcc)(`${label}: bitfields (data_bit_offset or bit_offset), arrays, enums, sections${NEEDS_GCC}`, () => {
      const exe = compile(['-g', ...flags], `bits-${label}`);
      const t = new DwarfTypes(loadDwarfIndex(exe, { cache: false }).index, { label: exe });
      expect(t.sizeof('struct bits')).toBe(16 + 2 * 3 * 4 * 8 + 8 + 8); // bitfields and union in 16, grid, two pointers, tail[] adds nothing
      const m = (p: string): [number, number | null] => { const l = t.memberPath('struct bits', p); return [l.bitOffset, l.bitSize]; };
      expect([m('a'), m('b'), m('c'), m('d'), m('e'), m('f')]).toEqual([[0, 3], [3, 5], [8, 7], [16, null], [24, 40], [64, 4]]);
      expect([t.offsetof('struct bits', 'u1'), t.offsetof('struct bits', 's2'), t.offsetof('struct bits', 'grid[1][2][3]')]).toEqual([12, 14, 16 + (12 + 8 + 3) * 8]);
      expect(t.typeName(t.memberPath('struct bits', 'grid').type)).toBe('long [2][3][4]');
      expect(t.resolved(t.memberPath('struct bits', 'tail').type)).toMatchObject({ kind: 'array', length: 0 });
      expect(t.typeName(t.memberPath('struct bits', 'cb').type)).toBe('void (*)(struct bits *, int)');
      expect(t.describe(t.getType('enum small'))).toMatchObject({ signed: true, enumerators: [{ name: 'NEG', value: -2n }, { name: 'ZERO', value: 0n }, { name: 'POS', value: 5n }] });
      expect(t.enumValue('BIGV')).toBe(0xfffff00000000000n);
      expect(t.typeName(t.findVariable('global_ptr')!.type)).toBe('cvbits_t *');
      expect(t.typeName(t.resolve('cvbits_t'))).toBe('struct bits');
      expect(t.findVariable('sec_var')).toMatchObject({ section: 'vaat_sec', sectionOffset: 4, linkage: 'global' }); // a section the linker keeps apart
      const sum = t.describe(t.findFunction('sum')!.type);
      expect(sum).toMatchObject({ kind: 'function', variadic: true });
      expect(sum.kind === 'function' && sum.params.map((p) => p.name)).toEqual(['n']);
      // The recursive struct points at itself.
      const next = t.resolved(t.memberPath('struct node', 'next').type);
      expect(next.kind === 'pointer' && next.target).toBe(t.getType('struct node'));
    });
  }

  it.skipIf(!hasGcc)(`the cache: ignored and rebuilt when damaged, stale or of another build${NEEDS_GCC}`, () => {
    const exe = compile(['-g'], 'bits-cache');
    const id = nativeDwarf().elfIdentity(exe).buildId!;
    const n0 = nativeExtractions();
    const first = loadDwarfIndex(exe);
    expect([first.from, nativeExtractions() - n0]).toEqual(['vmlinux', 1]);
    expect(loadDwarfIndex(exe).from).toBe('cache');
    const file = typeCachePath(id)!;
    const good = readFileSync(file);
    const damage = (f: (b: Buffer) => Buffer, why: RegExp): void => {
      writeFileSync(file, f(Buffer.from(good)));
      const r = readTypeCache(id);
      expect(r.index).toBeNull();
      expect('why' in r && r.why).toMatch(why);
    };
    damage((b) => { b[b.length - 3] ^= 0xff; return b; }, /checksum/);
    damage((b) => b.subarray(0, b.length - 100), /truncated/);
    damage((b) => { b.writeUInt32LE(999, 24); return b; }, /another vaat version/);
    damage((b) => { b.write('dwarfs', 8, 'latin1'); return b; }, /another kind/);
    damage((b) => b.subarray(0, 10), /not a vaat cache file/);
    // Damaged on disk → the next load extracts again and rewrites it.
    const before = nativeExtractions();
    const again = loadDwarfIndex(exe);
    expect([again.from, nativeExtractions() - before, again.cacheNote]).toEqual(['vmlinux', 1, 'cache ignored: not a vaat cache file']);
    expect(readTypeCache(id).index).not.toBeNull();
    // A cache file for one build-id never serves another.
    expect(() => writeTypeCache('../evil', Buffer.alloc(1))).toThrow(/not hex/);
    copyFileSync(file, typeCachePath('00'.repeat(20))!);
    expect(readTypeCache('00'.repeat(20))).toMatchObject({ index: null, why: `holds build-id ${id}` });
    // Inline ranges asked for but not cached: extracted (with them) again.
    const inl = loadDwarfIndex(exe, { inlines: true });
    expect([inl.from, new DwarfTypes(inl.index).hasInlines]).toEqual(['vmlinux', true]);
  });

  it.skipIf(!hasGcc)(`damaged ELF and DWARF give clear errors, never a crash${NEEDS_GCC}`, () => {
    const exe = compile(['-g'], 'bits-damage');
    const bytes = readFileSync(exe);
    const variant = (name: string, b: Buffer): string => { const p = join(work, name); writeFileSync(p, b); return p; };
    // Cut short: the section headers (at the end) are gone.
    const cut = variant('cut', bytes.subarray(0, bytes.length >> 1));
    expect(() => loadDwarfIndex(cut, { cache: false })).toThrow(DwarfError);
    expect(() => loadDwarfIndex(variant('tiny', bytes.subarray(0, 20)), { cache: false })).toThrow(/not an ELF file|unreadable ELF header/);
    // No DWARF at all.
    const stripped = compile([], 'bits-nodebug');
    execFileSync('strip', ['--strip-debug', stripped]);
    expect(() => loadDwarfIndex(stripped, { cache: false })).toThrow(expect.objectContaining({ code: 'NO_DWARF' }));
    // Garbage over .debug_info and .debug_abbrev: an error (or, at worst, a smaller index), no crash.
    for (const section of ['.debug_info', '.debug_abbrev']) {
      const hdr = execFileSync('readelf', ['-SW', exe], { encoding: 'utf8' }).split('\n').find((l) => l.includes(` ${section} `))!;
      const [off, size] = /PROGBITS\s+\S+\s+(\S+)\s+(\S+)/.exec(hdr)!.slice(1).map((h) => Number.parseInt(h, 16));
      for (const seed of [1, 2, 3]) {
        const b = Buffer.from(bytes);
        for (let i = 0; i < size; i += 7) b[off + i] = (i * 31 + seed * 17) & 0xff;
        const p = variant(`garbage-${section}-${seed}`, b);
        try {
          new DwarfTypes(loadDwarfIndex(p, { cache: false }).index).findType('struct bits');
        } catch (e) {
          expect(e).toBeInstanceOf(DwarfError);
          expect((e as Error).message).toContain(p);
        }
      }
    }
  });

  it.skipIf(!hasGcc)(`inlined-function ranges agree with addr2line -i${NEEDS_GCC}`, () => {
    const src = join(work, 'inl.c');
    writeFileSync(src, `
static inline __attribute__((always_inline)) int inner(volatile int *p) { return *p * 3 + 1; }
static inline __attribute__((always_inline)) int outer(volatile int *p) { return inner(p) + inner(p + 1); }
volatile int v[2];
int main(void) { return outer(v); }
`);
    const exe = join(work, 'inl');
    execFileSync('gcc', ['-O2', '-g', '-o', exe, src]);
    const t = new DwarfTypes(loadDwarfIndex(exe, { inlines: true, cache: false }).index);
    expect(t.hasInlines).toBe(true);
    let checked = 0;
    for (let i = 0; i < t.header.nInlines; i++) {
      const { low: pc } = t.inlineRange(i);
      const ours = t.inlinedAt(pc).map((r) => r.name).reverse();
      const lines = execFileSync('addr2line', ['-i', '-f', '-e', exe, `0x${pc.toString(16)}`], { encoding: 'utf8' }).trim().split('\n');
      const theirs = lines.filter((_, k) => k % 2 === 0);
      expect(theirs.slice(0, ours.length)).toEqual(ours);
      expect(theirs[theirs.length - 1]).toBe('main');
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(2);
    expect(t.inlinedAt(0n)).toEqual([]);
  });

  it('rejects a damaged index', () => {
    const idx = Buffer.alloc(64);
    expect(() => new DwarfTypes(idx)).toThrow(DwarfIndexError);
    expect(() => new DwarfTypes(Buffer.from('VAATDWF1'))).toThrow(/shorter than its 64-byte header/);
  });
});
