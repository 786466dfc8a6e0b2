/**
 * Kernel symbols from the dumps' own memory, checked against the fixtures' oracles: the
 * System.map (link-time, + KERNELOFFSET), VMCOREINFO, crash's backtraces (address → name), the
 * kernel's own %pS lines in the log (name+off/size [module]) and drgn's backtraces.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dump } from '../src/dump/dump.js';
import { findKallsyms, type KallsymsTable } from '../src/symbols/kallsyms.js';
import { readModules, type ModuleLayout, type ModuleSymbolTable } from '../src/symbols/modules.js';
import { loadSystemMap } from '../src/symbols/systemmap.js';
import { CombinedSymbolTable, SymbolSourceMismatchError } from '../src/symbols/combine.js';
import { vmcoreinfoSymbolTable } from '../src/symbols/vmcoreinfo-symbols.js';
import { formatReturnAddress, formatSymbol, type SortedSymbolTable } from '../src/symbols/symtab.js';
import { drgnTruth, fixturesDir, kernelDir } from './fixtures.js';

const systemMapPath = join(kernelDir, 'System.map-6.1.0-54-cloud-amd64');

/** struct module / mod_kallsyms offsets of 6.1.0-54-cloud-amd64, from `pahole -C module,mod_kallsyms,module_layout vmlinux.btf` */
const LAYOUT_6_1: ModuleLayout = {
  module: { list: 8, name: 24, nameLen: 56, kallsyms: 544 },
  modKallsyms: { symtab: 0, numSymtab: 8, strtab: 16, typetab: 24 },
  regions: [
    { label: 'core', base: 320, size: 328, textSize: 332 },
    { label: 'init', base: 400, size: 408, textSize: 412 },
  ],
};

const DUMPS = [
  { scenario: 'sysrq-basic', file: 'vmcore.kdump-zlib' },
  { scenario: 'cgroup-mutex-hung', file: 'vmcore.kdump-zstd' },
  { scenario: 'oops-null-a', file: 'vmcore.kdump-snappy' },
  { scenario: 'softlockup', file: 'vmcore.elf-d31.lzo' },
  { scenario: 'qemu-dump', file: 'vmcore.qemu-kdump-zlib' },
];

interface BtFrame { name: string; addr: bigint; module?: string }
/** `#3 [ffffd07bc015feb8] watchdog.cold at ffffffffafbd26ac [mod]` lines of crash's bt output */
function crashFrames(scenario: string, file: string): BtFrame[] {
  const text = readFileSync(join(fixturesDir, scenario, 'truth', 'crash', file), 'utf8');
  return [...text.matchAll(/#\d+ \[[0-9a-f]+\] (\S+) at ([0-9a-f]{16})(?: \[(\w+)\])?/g)].map((m) => ({
    name: m[1],
    addr: BigInt('0x' + m[2]),
    ...(m[3] ? { module: m[3] } : {}),
  }));
}

/** the kernel's own `func+0x1a/0x40 [mod]` renderings in the log (call traces, RIP lines) */
interface LogSymbol { text: string; name: string; off: bigint; module?: string; rip: boolean }
function logSymbolLines(scenario: string): LogSymbol[] {
  const log = readFileSync(join(fixturesDir, scenario, 'truth', 'crash', 'log.txt'), 'utf8');
  const out: LogSymbol[] = [];
  for (const m of log.matchAll(/^\[[ \d.]+\] (RIP: 0010:| (?:\? )?)(([\w.]+)\+0x([0-9a-f]+)\/0x[0-9a-f]+(?: \[(\w+)\])?)$/gm)) {
    out.push({ text: m[2], name: m[3], off: BigInt('0x' + m[4]), rip: m[1].startsWith('RIP'), ...(m[5] ? { module: m[5] } : {}) });
  }
  return out;
}

const timings: string[] = [];
afterAll(() => {
  console.log(`kallsyms rodata-scan timings:\n  ${timings.join('\n  ')}`);
});

describe.each(DUMPS)('kallsyms of $scenario/$file', ({ scenario, file }) => {
  let dump: Dump;
  let scan: KallsymsTable;
  let sysmap: SortedSymbolTable;
  let modules: ModuleSymbolTable;
  const crashMods = (): { struct: bigint; name: string; base: bigint; size: number }[] =>
    [...readFileSync(join(fixturesDir, scenario, 'truth', 'crash', 'mod.txt'), 'utf8').matchAll(/^([0-9a-f]{16})\s+(\w+)\s+([0-9a-f]{16})\s+(\d+)/gm)].map((m) => ({
      struct: BigInt('0x' + m[1]), name: m[2], base: BigInt('0x' + m[3]), size: Number(m[4]),
    }));

  beforeAll(() => {
    dump = Dump.open(join(fixturesDir, scenario, file));
    scan = findKallsyms(dump, dump.vmcoreinfo, { method: 'rodata-scan' });
    timings.push(`${scenario}/${file}: ${scan.elapsedMs.toFixed(0)} ms, ${scan.pagesRead} pages, ${scan.count} symbols`);
    sysmap = loadSystemMap(systemMapPath, { kernelOffset: dump.vmcoreinfo.kernelOffset });
    modules = readModules(dump, scan.lookup('modules')!.address, LAYOUT_6_1);
  });
  afterAll(() => dump?.close());

  it('finds the tables by shape where VMCOREINFO and System.map say they are', () => {
    const vi = dump.vmcoreinfo;
    expect(scan.method).toBe('rodata-scan');
    expect(scan.layout.names).toBe(vi.symbol('kallsyms_names'));
    expect(scan.layout.numSymsAt).toBe(vi.symbol('kallsyms_num_syms'));
    expect(scan.layout.tokenTable).toBe(vi.symbol('kallsyms_token_table'));
    expect(scan.layout.tokenIndex).toBe(vi.symbol('kallsyms_token_index'));
    expect(scan.layout.addressTable).toEqual({ kind: 'offsets', offsets: vi.symbol('kallsyms_offsets'), relativeBase: vi.symbol('kallsyms_relative_base') });
    // VMCOREINFO does not list markers or seqs_of_names; the System.map does
    expect(scan.layout.markers).toBe(sysmap.lookup('kallsyms_markers')!.address);
    expect(scan.layout.seqsOfNames).toBe(sysmap.lookup('kallsyms_seqs_of_names')!.address);
    expect(scan.layout.order).toBe('offsets-first');
    expect(scan.rule).toBe('relative-absolute-percpu'); // CONFIG_KALLSYMS_ABSOLUTE_PERCPU=y
    expect(scan.proof.matched).toEqual(expect.arrayContaining(['_stext', 'init_uts_ns', 'prb']));
    // SYMBOL(mem_section) is the pointer's value, not the variable's address
    expect(scan.proof.mismatched.map((m) => m.name)).toEqual(['mem_section']);
    expect(scan.proof.selfConsistent).toContain('kallsyms_token_index=VMCOREINFO');
    expect(scan.source).toMatch(/^kallsyms \(rodata-scan; proof: .*_stext/);
    console.log(`rodata scan: ${scan.elapsedMs.toFixed(0)} ms`); // timing lives in bench/, not in assertions
  });

  it('decodes the same symbols as the VMCOREINFO-listed tables', () => {
    const direct = findKallsyms(dump, dump.vmcoreinfo);
    expect(direct.method).toBe('vmcoreinfo');
    const a = [...scan.all()];
    const b = [...direct.all()];
    expect(b.length).toBe(a.length);
    expect(b.every((s, i) => s.name === a[i].name && s.address === a[i].address && s.type === a[i].type)).toBe(true);
  });

  it('holds every System.map symbol except the kallsyms tables and absolute symbols', () => {
    // figures for 6.1.0-54-cloud-amd64: 87280 kallsyms, 87294 System.map lines
    expect(scan.count).toBe(87280);
    expect(sysmap.count).toBe(87294);
    const key = (s: { name: string; address: bigint }): string => `${s.name}@${s.address.toString(16)}`;
    const inScan = new Set([...scan.all()].map(key));
    const mapOnly = [...sysmap.all()].filter((s) => !inScan.has(key(s)));
    // scripts/kallsyms leaves out its own 8 tables and absolute symbols other than per-CPU ones
    expect(mapOnly.filter((s) => s.name.startsWith('kallsyms_')).length).toBe(8);
    expect(mapOnly.filter((s) => !s.name.startsWith('kallsyms_')).every((s) => s.type === 'A')).toBe(true);
    expect(mapOnly.length).toBe(14);
    const inMap = new Set([...sysmap.all()].map(key));
    expect([...scan.all()].filter((s) => !inMap.has(key(s)))).toEqual([]);
  });

  it('places a sample of System.map text symbols (+KERNELOFFSET) at the same address', () => {
    const text = [...sysmap.all()].filter((s) => s.type === 'T' || s.type === 't');
    const sample = text.filter((_, i) => i % 15 === 0);
    expect(sample.length).toBeGreaterThan(3000);
    const wrong = sample.filter((s) => !scan.lookupAll(s.name).some((k) => k.address === s.address));
    expect(wrong).toEqual([]);
  });

  it('symbolizes the return addresses of crash\'s backtraces to crash\'s function names', () => {
    const frames = [...crashFrames(scenario, 'bt_-a.txt'), ...crashFrames(scenario, 'bt.txt')];
    const both = new CombinedSymbolTable([{ table: modules, crossCheck: false }, scan]);
    expect(frames.length).toBeGreaterThan(5);
    for (const f of frames) {
      const s = both.symbolize(f.addr);
      expect(s, `0x${f.addr.toString(16)}`).toBeDefined();
      // crash cuts module symbol names at the first clone suffix it does not know (".isra.0")
      if (f.module) {
        expect(s!.module).toBe(f.module);
        expect(s!.name.startsWith(f.name)).toBe(true);
      } else {
        expect(s!.name).toBe(f.name);
      }
    }
  });

  it('names the panic task\'s frames in the order drgn unwinds them', () => {
    const drgn: string[] = drgnTruth(scenario).panic_task.backtrace;
    const pid: number = drgnTruth(scenario).panic_task.tid;
    const text = readFileSync(join(fixturesDir, scenario, 'truth', 'crash', 'bt.txt'), 'utf8');
    expect(text).toMatch(new RegExp(`^PID: ${pid}\\b`, 'm'));
    const both = new CombinedSymbolTable([{ table: modules, crossCheck: false }, scan]);
    // drgn names the function (without .cold / .constprop clone suffixes) and adds inlined frames
    // (crash repeats the frame where the IRQ stack links back to the task stack; drgn does not)
    const names = crashFrames(scenario, 'bt.txt')
      .map((f) => both.symbolize(f.addr)!.name.replace(/\..*$/, ''))
      .filter((n, i, all) => i === 0 || all[i - 1] !== n);
    const plain = drgn.map((n) => n.replace(/\..*$/, ''));
    let at = 0;
    let found = 0;
    for (const n of names) {
      const i = plain.indexOf(n, at);
      if (i >= 0) { found++; at = i + 1; }
    }
    // crash shows stale return addresses drgn's unwinder skips; every name both see must be in order
    expect(found).toBeGreaterThanOrEqual(3);
    expect(found).toBe(names.filter((n) => plain.includes(n)).length);
  });

  it('formats addresses exactly as the kernel\'s own log lines (func+off/size [module])', () => {
    const lines = logSymbolLines(scenario);
    expect(lines.length).toBeGreaterThan(5);
    const both = new CombinedSymbolTable([{ table: modules, crossCheck: false }, scan]);
    for (const l of lines) {
      const cands = l.module ? modules.module(l.module)!.symbols.lookupAll(l.name) : scan.lookupAll(l.name);
      // RIP lines are %pS; call trace entries are return addresses, printed with %pB
      const fmt = l.rip ? formatSymbol : formatReturnAddress;
      const rendered = cands.map((c) => fmt(both, c.address + l.off));
      expect(rendered, l.text).toContain(l.text);
    }
  });

  it('reads the loaded modules\' own symbol tables', () => {
    const want: string[] = drgnTruth(scenario).modules;
    expect(modules.modules.map((m) => m.name).sort()).toEqual([...want].sort());
    for (const c of crashMods()) {
      const m = modules.module(c.name)!;
      expect(m.address).toBe(c.struct);
      expect(m.regions[0]).toMatchObject({ label: 'core', start: c.base, end: c.base + BigInt(c.size) });
      expect(modules.symbolize(c.struct)).toMatchObject({ name: '__this_module', offset: 0, module: c.name });
      expect(m.symbols.count).toBeGreaterThan(3);
    }
  });

  it('agrees with the System.map of the same kernel and refuses a shifted copy', () => {
    const ok = new CombinedSymbolTable([scan, sysmap, vmcoreinfoSymbolTable(dump.vmcoreinfo)]);
    expect(ok.checks[0]).toMatchObject({ label: 'System.map', disagreeing: 0 });
    expect(ok.checks[0].shared).toBeGreaterThan(80000);
    // only VMCOREINFO's pointer-valued mem_section differs (node_online_map, swapper_pg_dir are macros kallsyms lacks)
    expect(ok.disagreements.map((d) => d.name)).toEqual(['mem_section']);
    expect(ok.lookup('init_uts_ns')!.address).toBe(dump.vmcoreinfo.symbol('init_uts_ns'));

    const dir = mkdtempSync(join(tmpdir(), 'vaat-sysmap-'));
    const shifted = join(dir, 'System.map-shifted');
    writeFileSync(shifted, readFileSync(systemMapPath, 'utf8').replace(/^([0-9a-f]{16})/gm, (h) => (BigInt('0x' + h) + 0x1000n).toString(16).padStart(16, '0')));
    const bad = loadSystemMap(shifted, { kernelOffset: dump.vmcoreinfo.kernelOffset });
    expect(() => new CombinedSymbolTable([scan, bad])).toThrow(SymbolSourceMismatchError);
    expect(() => new CombinedSymbolTable([scan, bad])).toThrow(/does not belong to this dump: \d+ of \d+ names/);
    // the right map without the KASLR slide does not belong either
    const unslid = loadSystemMap(systemMapPath, { kernelOffset: 0n });
    expect(() => new CombinedSymbolTable([scan, unslid])).toThrow(SymbolSourceMismatchError);
  });
});

describe('scenario specifics', () => {
  it('cgroup-mutex-hung: the module\'s mutex address is cgroup_mutex, and its param says so', () => {
    const dump = Dump.open(join(fixturesDir, 'cgroup-mutex-hung', 'vmcore.kdump-zstd'));
    try {
      const k = findKallsyms(dump, dump.vmcoreinfo);
      const mods = readModules(dump, k.lookup('modules')!.address, LAYOUT_6_1);
      const log = readFileSync(join(fixturesDir, 'cgroup-mutex-hung', 'truth', 'crash', 'log.txt'), 'utf8');
      const took = BigInt('0x' + /vaat_holder: took mutex at ([0-9a-f]+)/.exec(log)![1]);
      expect(formatSymbol(k, took)).toMatch(/^cgroup_mutex\+0x0\/0x/);
      const param = mods.lookup('mutex_addr')!;
      expect(param).toMatchObject({ module: 'vaat_holder', type: 'b' });
      expect(dump.u64(param.address)).toBe(took);
      expect(mods.lookup('vaat_holder_fn')).toMatchObject({ type: 't', module: 'vaat_holder' });
    } finally {
      dump.close();
    }
  });

  it('qemu-dump: names the module frame drgn left as a bare address', () => {
    const dump = Dump.open(join(fixturesDir, 'qemu-dump', 'vmcore.qemu-kdump-zlib'));
    try {
      const k = findKallsyms(dump, dump.vmcoreinfo, { method: 'rodata-scan' });
      const mods = readModules(dump, k.lookup('modules')!.address, LAYOUT_6_1);
      const bare = drgnTruth('qemu-dump').panic_task.backtrace[0] as string;
      expect(bare).toMatch(/^0xffffffffc0/);
      const s = mods.symbolize(BigInt(bare));
      expect(s).toMatchObject({ module: 'pvpanic' });
      expect(s!.name).toMatch(/panic/);
      expect(k.symbolize(BigInt(bare))).toBeUndefined();
    } finally {
      dump.close();
    }
  });
});
