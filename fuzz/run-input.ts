/**
 * One fuzz input, run in-process through the library and the native addon: the damaged file is
 * opened and read (attributes, CPU registers, a spread of pages, every VMCOREINFO value, a
 * virtual read), and put through the CLI commands' own run() and render(); damaged BTF is parsed
 * and questioned; damaged kernel memory is analysed. Every error is classified: a VaatError is a
 * typed failure (allowed); anything else is an untyped error (a bug the fuzzer reports).
 */
import { closeSync, copyFileSync, openSync, readSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { VaatError } from '../src/errors/index.js';
import { openVmcore, Vmcore } from '../src/vmcore.js';
import { parseBtf } from '../src/types/btf.js';
import { Output } from '../src/output/sink.js';
import { builtinCommands } from '../commands/index.js';
import { parseCommandArgv } from '../cli/command-argv.js';
import type { Dump } from '../src/dump/dump.js';
import type { Analysis, FilePatch, Mutation } from './mutate.js';
import { OverlayDump, type Ranges } from './overlay.js';

export interface Untyped { step: string; name: string; message: string; at: string }
export interface InputOutcome { typed: string[]; untyped: Untyped[] }

const commands = new Map(builtinCommands.map((c) => [c.name, c]));

class Collector {
  readonly typed: string[] = [];
  readonly untyped: Untyped[] = [];
  async step<T>(name: string, fn: () => T | Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof VaatError) this.typed.push(e.name);
      else {
        const err = e instanceof Error ? e : new Error(String(e));
        const at = (err.stack ?? '').split('\n').find((l) => l.includes(' at ') && !l.includes('node:')) ?? '';
        this.untyped.push({ step: name, name: err.name, message: err.message.slice(0, 300), at: at.trim().slice(0, 200) });
      }
      return undefined;
    }
  }
}

/** a command run on an opened vmcore, result rendered for people: what the CLI does */
export async function runAnalysis(vm: Vmcore, a: Analysis): Promise<void> {
  const [name, ...argv] = a;
  const spec = commands.get(name);
  if (!spec) throw new Error(`no command ${name}`);
  const { args, options } = parseCommandArgv(spec, argv);
  const result = await spec.run({ vm, args, options });
  const out = new Output({ plain: true });
  spec.render(result, out, options);
  void out.text();
}

/** the reads every file input gets: cheap, and they reach every structure native code parses */
async function probeFile(c: Collector, path: string, analyses: Analysis[]): Promise<void> {
  const vm = await c.step('open', () => openVmcore(path, { vmlinux: false }));
  if (!vm) return;
  try {
    const a = vm.dump.attrs;
    await c.step('cpuRegs', () => vm.dump.cpuRegs());
    await c.step('pages', () => {
      const n = Math.min(a.maxPfn, 1 << 22);
      const addrs = Array.from({ length: 128 }, (_, i) => BigInt(Math.floor((i * n) / 128)) * 4096n);
      for (const p of addrs.slice(0, 16)) { try { vm.dump.readPhys(p, 4096); } catch (e) { if (!(e instanceof VaatError)) throw e; } }
    });
    await c.step('vmcoreinfo', () => {
      for (const key of vm.vmcoreinfo.lines.keys()) {
        const m = /^(SYMBOL|OFFSET|SIZE|NUMBER|LENGTH)\((.*)\)$/.exec(key);
        if (!m) continue;
        try {
          if (m[1] === 'SYMBOL') vm.vmcoreinfo.symbol(m[2]);
          else if (m[1] === 'OFFSET') vm.vmcoreinfo.offset(m[2]);
          else if (m[1] === 'SIZE') vm.vmcoreinfo.size(m[2]);
          else if (m[1] === 'NUMBER') vm.vmcoreinfo.number(m[2]);
          else vm.vmcoreinfo.length(m[2]);
        } catch (e) { if (!(e instanceof VaatError)) throw e; }
      }
      void vm.vmcoreinfo.kernelOffset;
      void vm.vmcoreinfo.pageSize;
    });
    await c.step('readVirt', () => {
      const u = vm.vmcoreinfo.symbol('init_uts_ns');
      if (u !== undefined) vm.dump.readVirt(u, 390);
    });
    for (const an of analyses) await c.step(an.join(' '), () => runAnalysis(vm, an));
  } finally {
    vm.close();
  }
}

function readAt(path: string, off: number, len: number): Buffer {
  const fd = openSync(path, 'r');
  try { const b = Buffer.alloc(len); return b.subarray(0, readSync(fd, b, 0, len, off)); } finally { closeSync(fd); }
}
function writeAt(path: string, off: number, b: Buffer): void {
  const fd = openSync(path, 'r+');
  try { writeSync(fd, b, 0, b.length, off); } finally { closeSync(fd); }
}

export interface RunContext {
  /** per seed name: this process's private, writable copy of the seed file */
  copies: Map<string, string>;
  /** the intact kernel BTF */
  btf: Buffer;
  /** per seed name: the intact dump, for kernel-memory inputs */
  intact: Map<string, Dump>;
  /** per seed name: a vmcore of the intact dump with symbols and types loaded, and the memory they were loaded from */
  loaded?: Map<string, { vm: Vmcore; setup: Ranges }>;
  scratch: string;
}

/** apply the patches in place, run, and put the original bytes back */
async function withPatched<T>(path: string, patches: FilePatch[], fn: () => Promise<T>): Promise<T> {
  const saved = patches.map((p) => ({ offset: p.offset, bytes: readAt(path, p.offset, p.bytes.length) }));
  for (const p of patches) writeAt(path, p.offset, p.bytes);
  try { return await fn(); } finally { for (const s of saved.reverse()) writeAt(path, s.offset, s.bytes); }
}

export async function runInput(m: Mutation, rc: RunContext): Promise<InputOutcome> {
  const c = new Collector();
  if (m.kind === 'file') {
    const copy = rc.copies.get(m.seed)!;
    if (m.truncate !== undefined) {
      const cut = join(rc.scratch, 'truncated');
      copyFileSync(copy, cut);
      truncateSync(cut, m.truncate);
      await withPatched(cut, m.patches.filter((p) => p.offset + p.bytes.length <= m.truncate!), () => probeFile(c, cut, m.analyses));
    } else {
      await withPatched(copy, m.patches, () => probeFile(c, copy, m.analyses));
    }
  } else if (m.kind === 'btf') {
    const b = Buffer.from(m.truncate !== undefined ? rc.btf.subarray(0, m.truncate) : rc.btf);
    for (const p of m.patches) if (p.offset + p.bytes.length <= b.length) p.bytes.copy(b, p.offset);
    const t = await c.step('parseBtf', () => parseBtf(b, { label: 'fuzzed BTF' }));
    if (t) {
      await c.step('task_struct', () => { t.sizeof('struct task_struct'); t.members('struct task_struct'); t.offsetof('struct task_struct', 'se.vruntime'); });
      await c.step('types', () => {
        for (const name of ['struct list_head', 'struct rq', 'struct cgroup', 'struct mutex', 'struct module', 'struct page']) {
          try { const id = t.findType(name); if (id !== null) { t.typeName(id); t.sizeof(id); t.members(id); } } catch (e) { if (!(e instanceof VaatError)) throw e; }
        }
      });
      await c.step('ids', () => {
        for (let id = 1; id < 3000; id++) {
          try { t.describe(id); t.typeName(id); t.resolved(id); t.sizeof(id); } catch (e) { if (!(e instanceof VaatError)) throw e; }
        }
      });
      await c.step('enums', () => { t.findEnumerator('TASK_COMM_LEN'); t.findVariable('init_task'); t.findFunction('schedule'); });
    }
  } else {
    const base = rc.intact.get(m.seed)!;
    const overlay = new OverlayDump(base, m.patches);
    // Patches that leave the memory symbols and types came from alone cannot change them: the
    // analyses run on the loaded tables. Others load them again from the patched memory.
    const l = rc.loaded?.get(m.seed);
    const vm = l && !m.patches.some((p) => l.setup.touches(p.addr, p.bytes.length))
      ? l.vm.overMemory(overlay.asDump())
      : new Vmcore(overlay.asDump(), { vmlinux: false });
    for (const an of m.analyses) await c.step(an.join(' '), () => runAnalysis(vm, an));
  }
  return { typed: c.typed, untyped: c.untyped };
}
