/**
 * Data symbols for a kernel whose kallsyms hold only text (no CONFIG_KALLSYMS_ALL, as Debian's
 * arm64 cloud kernel) when no vmlinux or System.map is at hand. Each address is derived from
 * something the dump itself proves, and checked against the data it must hold:
 *
 * - the per-CPU area: `idle_cpu()` computes `&runqueues + __per_cpu_offset[cpu]`; its code gives
 *   both link addresses, BTF's `.data..percpu` DATASEC gives runqueues' offset in the section,
 *   so every per-CPU variable BTF lists is placed — accepted only if each CPU's `rq->cpu` is that CPU;
 * - globals reachable from there: `init_task` is CPU 0's idle task, `init_css_set` its css_set, `cgrp_dfl_root` that css_set's default cgroup's root,
 *   `root_task_group` the group of CPU 0's root cfs_rq;
 * - `nr_cpu_ids`, `__cpu_possible_mask` and `__cpu_online_mask`: what nr_context_switches() and
 *   nr_running() loop over (for_each_possible_cpu / for_each_online_cpu), each mask checked to
 *   hold only CPUs below nr_cpu_ids that have their own runqueue;
 * - `__cpu_present_mask` (cpudl_set() warns unless cpu_present()), `__cpu_active_mask`
 *   (sched_getaffinity()), `cgroup_subsys` (cgroup_get_e_css(); every entry's id is its index);
 * - `jiffies_64` (__round_jiffies_up()), `avenrun` (get_avenrun()), `_totalram_pages`
 *   (si_meminfo()): the first 8-byte load each makes, checked for a plausible value;
 * - `init_mm` (finish_cpu(); its pgd must be VMCOREINFO's swapper_pg_dir), `cpu_topology`
 *   (the sysfs topology readers; every CPU its own SMT sibling), `__cpu_logical_map`
 *   (cpu_logical_map(); distinct hardware ids);
 * - globals small helpers read: `tainted_mask` (get_taint), `cgroup_mutex` (the mutex
 *   cgroup_lock_and_drain_offline locks), `modules` (the list find_module_all walks), each
 *   checked for its shape.
 * Anything not derivable stays absent: lookups fail with "symbol not found", never a guess.
 */
import type { MemoryReader } from '../dump/dump.js';
import { codeReferences, type CodeRefs } from './arm64-code-refs.js';
import type { TypeInfo } from '../types/typeinfo.js';
import { declaredGlobalType, tkCoreTimekeeperOffset } from '../types/well-known.js';
import { SortedSymbolTable, type KernelSymbol, type SymbolTable, type Symbolized } from './symtab.js';

export interface DerivedSymbolsInput {
  mem: MemoryReader;
  /** text symbols (kallsyms) */
  text: SymbolTable;
  /** VMCOREINFO's SYMBOL() lines: swapper_pg_dir, which arm64's kallsyms leaves out */
  vmcoreinfo?: SymbolTable;
  types: TypeInfo;
  /** CPUs to check the per-CPU area on */
  nrCpus: number;
}

const PERCPU_SECTION = '.data..percpu';
/** bytes of a helper decoded: the patterns sit in its first few dozen instructions */
const CODE_BYTES = 256;

export class DerivedSymbolTable implements SymbolTable {
  readonly source: string;
  readonly #fixed: SortedSymbolTable;
  readonly #perCpuStart: bigint | undefined;
  readonly #types: TypeInfo;

  constructor(input: DerivedSymbolsInput) {
    const found = derive(input);
    this.#types = input.types;
    this.#perCpuStart = found.perCpuStart;
    // each symbol spans its declared type, so an address inside init_task names init_task+off
    const sized = found.symbols.map((s) => ({ ...s, size: symbolSize(input.types, s.name) }));
    this.#fixed = new SortedSymbolTable('derived', sized, { sizes: 'given' });
    const names = found.symbols.map((s) => s.name);
    this.source = `derived from code and data (${names.length ? names.join(', ') : 'nothing'}${found.perCpuStart !== undefined ? ', BTF per-CPU variables' : ''})`;
  }

  get count(): number { return this.#fixed.count; }

  lookup(name: string): KernelSymbol | undefined {
    const s = this.#fixed.lookup(name);
    if (s || this.#perCpuStart === undefined) return s;
    const v = this.#types.findVariable(name);
    if (v?.section !== PERCPU_SECTION || v.sectionOffset === null) return undefined;
    return { name, address: this.#perCpuStart + BigInt(v.sectionOffset), type: 'D' };
  }

  symbolize(addr: bigint): Symbolized | undefined { return this.#fixed.symbolize(addr); }
  all(): Iterable<KernelSymbol> { return this.#fixed.all(); }
}

interface Derived {
  symbols: KernelSymbol[];
  perCpuStart: bigint | undefined;
}

function derive({ mem, text, vmcoreinfo, types, nrCpus }: DerivedSymbolsInput): Derived {
  const symbols: KernelSymbol[] = [];
  const add = (name: string, address: bigint) => symbols.push({ name, address, type: 'D' });
  const refs = (fn: string): CodeRefs | undefined => {
    const s = text.lookup(fn);
    if (!s) return undefined;
    try { return codeReferences(mem.readVirt(s.address, CODE_BYTES), s.address); } catch { return undefined; }
  };
  const u64 = (a: bigint) => mem.readVirt(a, 8).readBigUInt64LE(0);
  const u32 = (a: bigint) => mem.readVirt(a, 4).readUInt32LE(0);
  const tryOr = <T>(f: () => T): T | undefined => { try { return f(); } catch { return undefined; } };

  // --- the per-CPU area, from idle_cpu(): cpu_rq(cpu) = &runqueues + __per_cpu_offset[cpu] ---
  let perCpuStart: bigint | undefined;
  let rq0: bigint | undefined;
  const rqVar = types.findVariable('runqueues');
  if (rqVar?.section === PERCPU_SECTION && rqVar.sectionOffset !== null) {
    const rqCpu = types.offsetof('struct rq', 'cpu');
    for (const fn of ['idle_cpu', 'available_idle_cpu', 'nr_iowait_cpu']) {
      const hit = refs(fn)?.perCpu.find(({ variable, offsets }) => tryOr(() => {
        for (let cpu = 0; cpu < Math.max(nrCpus, 1); cpu++) {
          if (u32(((variable + u64(offsets + BigInt(cpu * 8))) & MASK64) + BigInt(rqCpu)) !== cpu) return false;
        }
        return true;
      }));
      if (!hit) continue;
      perCpuStart = hit.variable - BigInt(rqVar.sectionOffset);
      add('__per_cpu_offset', hit.offsets);
      add('__per_cpu_start', perCpuStart);
      rq0 = (hit.variable + u64(hit.offsets)) & MASK64;
      break;
    }
  }

  // --- nr_cpu_ids and the possible/online masks: nr_context_switches() and nr_running() walk
  // for_each_possible_cpu / for_each_online_cpu over cpu_rq(i) ---
  let perCpuOffsets: bigint | undefined;
  let rqLink: bigint | undefined;
  for (const s of symbols) if (s.name === '__per_cpu_offset') perCpuOffsets = s.address;
  if (perCpuStart !== undefined && rqVar?.sectionOffset != null) rqLink = perCpuStart + BigInt(rqVar.sectionOffset);
  if (perCpuOffsets !== undefined && rqLink !== undefined) {
    const rqCpu = BigInt(types.offsetof('struct rq', 'cpu'));
    const offsets = perCpuOffsets;
    const possibleRefs = refs('nr_context_switches');
    const nrLoad = possibleRefs?.loads.find((l) => l.size === 4);
    const nr = nrLoad && tryOr(() => u32(nrLoad.address));
    if (nrLoad && nr !== undefined && nr >= Math.max(1, nrCpus) && nr <= 1 << 16) {
      add('nr_cpu_ids', nrLoad.address);
      const known = new Set([rqLink, offsets, nrLoad.address]);
      // a non-empty cpumask whose CPUs are all below nr_cpu_ids, each with its own runqueue (CPU 0,
      // the boot CPU, need not be online: a panic stops the other CPUs and clears their bits)
      const isMask = (a: bigint) => tryOr(() => {
        const words = mem.readVirt(a, Math.ceil(nr / 64) * 8);
        const cpus: number[] = [];
        for (let cpu = 0; cpu < words.length * 8; cpu++) if ((words[cpu >> 3] >> (cpu & 7)) & 1) cpus.push(cpu);
        return cpus.length > 0 && cpus.at(-1)! < nr && cpus.every((cpu) => u32(((rqLink! + u64(offsets + BigInt(cpu * 8))) & MASK64) + rqCpu) === cpu);
      });
      const mask = (r: CodeRefs | undefined) => r?.addresses.find((a) => !known.has(a) && isMask(a));
      const possible = possibleRefs?.addresses.find((a) => !known.has(a) && isMask(a) && tryOr(() => (mem.readVirt(a, 1)[0] & 1) === 1));
      if (possible !== undefined) {
        add('__cpu_possible_mask', possible);
        known.add(possible);
      }
      const online = mask(refs('nr_running'));
      if (online !== undefined) {
        add('__cpu_online_mask', online);
        known.add(online);
      }
      // cpudl_set() warns unless cpu_present(cpu); sched_getaffinity() ands with cpu_active_mask
      const present = mask(refs('cpudl_set')) ?? mask(refs('cpudl_clear'));
      if (present !== undefined) add('__cpu_present_mask', present);
      const active = mask(refs('sched_getaffinity'));
      if (active !== undefined) add('__cpu_active_mask', active);
    }
  }

  // --- globals reachable from CPU 0's runqueue ---
  if (rq0 !== undefined) {
    const ptr = (obj: bigint, type: string, path: string) => u64(obj + BigInt(types.offsetof(type, path)));
    const init = tryOr(() => ptr(rq0!, 'struct rq', 'idle'));
    const comm = init === undefined ? undefined : tryOr(() => mem.readVirt(init + BigInt(types.offsetof('struct task_struct', 'comm')), 16).toString('latin1'));
    const pid = init === undefined ? undefined : tryOr(() => u32(init + BigInt(types.offsetof('struct task_struct', 'pid'))));
    if (init && comm?.startsWith('swapper') && pid === 0) {
      add('init_task', init);
      const cset = tryOr(() => ptr(init, 'struct task_struct', 'cgroups'));
      if (cset) {
        add('init_css_set', cset);
        const dfl = tryOr(() => ptr(cset, 'struct css_set', 'dfl_cgrp'));
        if (dfl) {
          const root = dfl - BigInt(types.offsetof('struct cgroup_root', 'cgrp'));
          add('cgrp_dfl_root', root);
          // cgroup_roots: the one node of the roots' ring that is no cgroup_root, in the image (v1 roots are allocated)
          const stext = text.lookup('_stext')?.address;
          const own = root + BigInt(types.offsetof('struct cgroup_root', 'root_list'));
          const head = stext === undefined ? undefined : tryOr(() => {
            for (let n = u64(own), i = 0; n !== own && i < 64; n = u64(n), i++) if (n >= stext && n < stext + (1n << 30n) && isListHead(mem, n)) return n;
            return undefined;
          });
          if (head !== undefined) add('cgroup_roots', head);
        }
      }
    }
    const tg = tryOr(() => ptr(rq0!, 'struct rq', 'cfs.tg'));
    if (tg) add('root_task_group', tg);
  }

  // --- globals small helpers read ---
  const first = refs('get_taint')?.addresses[0];
  if (first !== undefined) add('tainted_mask', first);
  const mutexLock = text.lookup('mutex_lock')?.address;
  const locked = mutexLock === undefined ? undefined : refs('cgroup_lock_and_drain_offline')?.calls.find((c) => c.target === mutexLock && c.x0 !== undefined)?.x0;
  if (locked !== undefined && tryOr(() => isListHead(mem, locked + BigInt(types.offsetof('struct mutex', 'wait_list'))))) add('cgroup_mutex', locked);
  // cgroup_subsys[]: the array cgroup_get_e_css() indexes, each entry a cgroup_subsys whose id is its index
  const nSubsys = tryOr(() => types.findEnumerator('CGROUP_SUBSYS_COUNT')?.value);
  if (nSubsys !== undefined && nSubsys !== null) {
    const n = Number(nSubsys);
    const idOff = BigInt(types.offsetof('struct cgroup_subsys', 'id'));
    const isSubsysArray = (a: bigint) => tryOr(() => n > 0 && Array.from({ length: n }, (_, i) => u64(a + BigInt(i * 8))).every((ss, i) => u32(ss + idOff) === i));
    const arr = ['cgroup_get_e_css', 'cgroup_e_css', 'cgroup_print_ss_mask'].map((f) => refs(f)?.addresses.find(isSubsysArray)).find((a) => a !== undefined);
    if (arr !== undefined) add('cgroup_subsys', arr);
  }
  // sys: jiffies_64 (__round_jiffies_up() reads jiffies), avenrun (get_avenrun()), _totalram_pages (si_meminfo())
  const firstLoad = (fn: string, ok: (v: bigint) => boolean) => {
    const l = refs(fn)?.loads.find((x) => x.size === 8);
    return l && tryOr(() => ok(u64(l.address))) ? l.address : undefined;
  };
  // INITIAL_JIFFIES is 2^32 - 300 * HZ: jiffies_64 starts just below the 32-bit wrap
  const jiffies = firstLoad('__round_jiffies_up', (v) => v >= 0xfff00000n && v < 1n << 48n) ?? firstLoad('round_jiffies_up', (v) => v >= 0xfff00000n && v < 1n << 48n);
  if (jiffies !== undefined) { add('jiffies_64', jiffies); add('jiffies', jiffies); }
  const avenrun = firstLoad('get_avenrun', (v) => v < 1n << 40n);
  if (avenrun !== undefined) add('avenrun', avenrun);
  const totalram = firstLoad('si_meminfo', (v) => v > 0n && v < 1n << 40n);
  if (totalram !== undefined) add('_totalram_pages', totalram);
  // init_mm: what finish_cpu() hands an idle task back; its pgd is swapper_pg_dir (VMCOREINFO)
  const swapper = (text.lookup('swapper_pg_dir') ?? vmcoreinfo?.lookup('swapper_pg_dir'))?.address;
  const pgdOff = tryOr(() => BigInt(types.offsetof('struct mm_struct', 'pgd')));
  if (swapper !== undefined && pgdOff !== undefined) {
    const initMm = ['finish_cpu', 'setup_initial_init_mm'].map((f) => refs(f)?.addresses.find((a) => tryOr(() => u64(a + pgdOff) === swapper))).find((a) => a !== undefined);
    if (initMm !== undefined) add('init_mm', initMm);
  }
  // cpu_topology[] (the sysfs topology files read it) and __cpu_logical_map[] (cpu_logical_map())
  const topoSize = tryOr(() => types.sizeof('struct cpu_topology'));
  const sibOff = tryOr(() => BigInt(types.offsetof('struct cpu_topology', 'thread_sibling')));
  const possibleMask = symbols.find((x) => x.name === '__cpu_possible_mask')?.address;
  const possibleCpus = possibleMask === undefined ? [] : tryOr(() => {
    const b = mem.readVirt(possibleMask, 8);
    return Array.from({ length: 64 }, (_, c) => c).filter((c) => (b[c >> 3] >> (c & 7)) & 1);
  }) ?? [];
  if (topoSize !== undefined && sibOff !== undefined && possibleCpus.length) {
    // each CPU is its own SMT sibling
    const isTopology = (a: bigint) => tryOr(() => possibleCpus.every((c) => (mem.readVirt(a + BigInt(c * topoSize) + sibOff + BigInt(c >> 3), 1)[0] >> (c & 7)) & 1));
    const topo = ['cpu_clustergroup_mask', 'physical_package_id_show', 'core_id_show', 'cpu_smt_mask'].map((f) => refs(f)?.addresses.find(isTopology)).find((a) => a !== undefined);
    if (topo !== undefined) add('cpu_topology', topo);
    // distinct hardware ids, none of them INVALID_HWID
    const isLogicalMap = (a: bigint) => tryOr(() => {
      const ids = possibleCpus.map((c) => u64(a + BigInt(c * 8)));
      return new Set(ids).size === ids.length && ids.every((v) => v < 1n << 40n);
    });
    const map = refs('cpu_logical_map')?.addresses.find(isLogicalMap);
    if (map !== undefined) add('__cpu_logical_map', map);
  }
  const modules = refs('find_module_all')?.addresses.find((a) => tryOr(() => isListHead(mem, a)));
  if (modules !== undefined) add('modules', modules);

  // panic_cpu: crash_kexec() and nmi_panic() both claim it with
  // atomic_cmpxchg(&panic_cpu, PANIC_CPU_INVALID, this_cpu); an s32 that is -1 or a CPU number
  const nr = symbols.find((x) => x.name === 'nr_cpu_ids');
  const nrCpuIds = nr ? tryOr(() => u32(nr.address)) ?? nrCpus : nrCpus;
  const inBoth = (a: CodeRefs | undefined, b: CodeRefs | undefined) => a?.addresses.filter((x) => b?.addresses.includes(x)) ?? [];
  const panicCpu = inBoth(refs('crash_kexec'), refs('nmi_panic')).find((a) => tryOr(() => {
    const v = mem.readVirt(a, 4).readInt32LE(0);
    return v === -1 || (v >= 0 && v < nrCpuIds);
  }));
  if (panicCpu !== undefined) add('panic_cpu', panicCpu);

  // tk_core: ktime_get_real_seconds() returns tk_core.timekeeper.xtime_sec with one 8-byte load.
  const tkOff = tryOr(() => tkCoreTimekeeperOffset(types));
  const secOff = tryOr(() => types.offsetof('struct timekeeper', 'xtime_sec'));
  if (tkOff !== undefined && secOff !== undefined) {
    const isTimekeeper = (tk: bigint) => tryOr(() => {
      const shift = u32(tk + BigInt(types.offsetof('struct timekeeper', 'tkr_mono.shift')));
      const mult = u32(tk + BigInt(types.offsetof('struct timekeeper', 'tkr_mono.mult')));
      const clock = u64(tk + BigInt(types.offsetof('struct timekeeper', 'tkr_mono.clock')));
      return shift > 0 && shift < 64 && mult > 0 && clock >> 63n === 1n;
    });
    for (const fn of ['ktime_get_real_seconds', 'ktime_get_seconds']) {
      const field = fn === 'ktime_get_real_seconds' ? secOff : tryOr(() => types.offsetof('struct timekeeper', 'ktime_sec'));
      const l = field === undefined ? undefined : refs(fn)?.loads.find((x) => x.size === 8 && isTimekeeper(x.address - BigInt(field)));
      if (l && field !== undefined) { add('tk_core', l.address - BigInt(field) - BigInt(tkOff)); break; }
    }
  }

  // node_data[]: first_online_pgdat() returns NODE_DATA(first_online_node); each entry is NULL or
  // the pglist_data of the node with that id
  const nodeIdOff = tryOr(() => BigInt(types.offsetof('struct pglist_data', 'node_id')));
  if (nodeIdOff !== undefined) {
    const isNodeData = (a: bigint) => tryOr(() => {
      const p0 = u64(a);
      return p0 >> 63n === 1n && u32(p0 + nodeIdOff) === 0;
    });
    const nodeData = ['first_online_pgdat', 'next_online_pgdat'].map((f) => refs(f)?.addresses.find(isNodeData)).find((a) => a !== undefined);
    if (nodeData !== undefined) add('node_data', nodeData);
  }
  return { symbols, perCpuStart };
}

const MASK64 = (1n << 64n) - 1n;

/** bytes of a derived global by its declared type; undefined (exact address only) when unknown */
function symbolSize(types: TypeInfo, name: string): number | undefined {
  try {
    const t = declaredGlobalType(types, name);
    const n = t === null ? 0 : types.sizeof(t);
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** a list_head whose neighbours point back at it */
function isListHead(mem: MemoryReader, at: bigint): boolean {
  const b = mem.readVirt(at, 16);
  const next = b.readBigUInt64LE(0), prev = b.readBigUInt64LE(8);
  return mem.readVirt(next + 8n, 8).readBigUInt64LE(0) === at && mem.readVirt(prev, 8).readBigUInt64LE(0) === at;
}
