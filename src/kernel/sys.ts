/**
 * System-wide figures of crash's `sys` header: uname, HZ and uptime, load average, memory and
 * task counts, each read the way the kernel itself computes what /proc shows.
 */
import type { KernelContext } from '../context.js';
import { VaatError } from '../errors/index.js';
import { hz, initialJiffies } from './time.js';

export { hz } from './time.js';

export interface Utsname { sysname: string; nodename: string; release: string; version: string; machine: string; domainname: string }

/** init_uts_ns.name: what uname(2) returned in the dumped kernel's root UTS namespace */
export function utsname(vm: KernelContext): Utsname {
  const n = vm.object('init_uts_ns', 'struct uts_namespace').member('name').snapshot();
  const s = (m: string): string => n.member(m).string();
  return { sysname: s('sysname'), nodename: s('nodename'), release: s('release'), version: s('version'), machine: s('machine'), domainname: s('domainname') };
}

export interface Uptime {
  /** seconds since boot (humanDuration() in src/output/style.ts prints crash's "2 days, 01:02:03") */
  seconds: number;
  jiffies64: bigint;
  initialJiffies: bigint;
  hz: number;
}

/** Uptime at the crash: (jiffies_64 - INITIAL_JIFFIES) / HZ. */
export function uptime(vm: KernelContext): Uptime {
  const h = hz(vm);
  const j = vm.mem.u64(vm.address('jiffies_64'));
  const initial = initialJiffies(h);
  const seconds = Number(BigInt.asUintN(64, j - initial)) / h;
  return { seconds, jiffies64: j, initialJiffies: initial, hz: h };
}

export interface LoadAverage {
  /** avenrun[0..2], fixed point with FSHIFT 11 */
  raw: [bigint, bigint, bigint];
  /** each rounded to hundredths as /proc/loadavg rounds it (loadAverageText() in src/output/style.ts prints them) */
  values: [number, number, number];
}

const FSHIFT = 11n;
const FIXED_1 = 1n << FSHIFT;

/** avenrun[] as /proc/loadavg prints it: get_avenrun(loads, FIXED_1/200, 0), then LOAD_INT.LOAD_FRAC */
export function loadAverage(vm: KernelContext): LoadAverage {
  const b = vm.mem.readVirt(vm.address('avenrun'), 24);
  const raw: [bigint, bigint, bigint] = [b.readBigUInt64LE(0), b.readBigUInt64LE(8), b.readBigUInt64LE(16)];
  const parts = raw.map((x) => {
    const v = x + FIXED_1 / 200n; // rounds to the nearest hundredth
    const int = v >> FSHIFT;
    const frac = ((v & (FIXED_1 - 1n)) * 100n) >> FSHIFT;
    return { int, frac };
  });
  return { raw, values: parts.map((p) => Number(p.int) + Number(p.frac) / 100) as [number, number, number] };
}

/** totalram_pages(): _totalram_pages ("mm: convert totalram_pages to atomic", v5.0), else totalram_pages */
export function totalRam(vm: KernelContext): { pages: number; bytes: number } {
  const ps = vm.pageSize;
  const sym = vm.symbols.lookup('_totalram_pages') ?? vm.symbols.lookup('totalram_pages');
  if (!sym) throw new VaatError('no _totalram_pages/totalram_pages symbol');
  const pages = Number(vm.mem.s64(sym.address));
  return { pages, bytes: pages * ps };
}

/**
 * The pglist_data of every NUMA node: node_data[nid] for nid < nr_node_ids on NUMA kernels,
 * contig_page_data on the others.
 */
export function nodePgdats(vm: KernelContext): bigint[] {
  const nodeData = vm.symbols.lookup('node_data');
  if (!nodeData) return [vm.address('contig_page_data')];
  const out: bigint[] = [];
  if (vm.symbols.lookup('nr_node_ids')) {
    const nrNodes = vm.mem.u32(vm.address('nr_node_ids'));
    for (let nid = 0; nid < Math.min(nrNodes, MAX_NUMNODES); nid++) {
      const pgdat = vm.mem.pointer(nodeData.address + BigInt(nid * 8));
      if (pgdat !== 0n) out.push(pgdat);
    }
    return out;
  }
  // nr_node_ids unknown (a bare dump whose kallsyms hold no data): node_data[] holds NULL or the
  // pglist_data of node nid at [nid]; the array ends at the first entry that is neither
  const idOff = BigInt(vm.types.offsetof('struct pglist_data', 'node_id'));
  for (let nid = 0; nid < MAX_NUMNODES; nid++) {
    let pgdat: bigint;
    try {
      pgdat = vm.mem.pointer(nodeData.address + BigInt(nid * 8));
      if (pgdat !== 0n && vm.mem.s32(pgdat + idOff) !== nid) break;
    } catch { break; }
    if (pgdat !== 0n) out.push(pgdat);
  }
  return out;
}

/** Sum of node_present_pages over the NUMA nodes (what crash shows as MEMORY). */
export function nodePresentPages(vm: KernelContext): number {
  const off = BigInt(vm.types.offsetof('struct pglist_data', 'node_present_pages'));
  return nodePgdats(vm).reduce((total, pgdat) => total + Number(vm.mem.u64(pgdat + off)), 0);
}

/**
 * Free pages, global_zone_page_state(NR_FREE_PAGES): vm_zone_stat[NR_FREE_PAGES]. Where that
 * array has no symbol (a bare dump whose kallsyms hold no data), the sum of every zone's
 * vm_stat[NR_FREE_PAGES]: zone_page_state_add() adds each change to both, so they are equal.
 */
export function freePages(vm: KernelContext): number {
  const item = Number(vm.types.enumValue('NR_FREE_PAGES'));
  const global = vm.symbols.lookup('vm_zone_stat');
  if (global) return Number(vm.mem.s64(global.address + BigInt(item * 8)));
  return zonesFreePages(vm);
}

/** the sum of every zone's vm_stat[NR_FREE_PAGES], over every node */
export function zonesFreePages(vm: KernelContext): number {
  const item = Number(vm.types.enumValue('NR_FREE_PAGES'));
  const zones = vm.types.memberPath('struct pglist_data', 'node_zones');
  const zoneType = vm.types.resolved(zones.type);
  if (zoneType.kind !== 'array') throw new VaatError('pglist_data.node_zones is not an array');
  const zoneSize = vm.types.sizeof(zoneType.element);
  const statOff = vm.types.offsetof(zoneType.element, 'vm_stat') + item * 8;
  let free = 0;
  for (const pgdat of nodePgdats(vm)) {
    for (let z = 0; z < zoneType.length; z++) free += Number(vm.mem.s64(pgdat + BigInt(zones.offset + z * zoneSize + statOff)));
  }
  return free;
}

/** 1 << CONFIG_NODES_SHIFT at its largest (10) */
const MAX_NUMNODES = 1024;

/** x86's cpu_khz (calibrated CPU clock) in MHz, truncated as crash prints it; null where absent */
export function cpuMhz(vm: KernelContext): number | null {
  const sym = vm.symbols.lookup('cpu_khz');
  if (!sym) return null;
  const khz = vm.mem.u32(sym.address);
  return khz > 0 ? Math.floor(khz / 1000) : null;
}
