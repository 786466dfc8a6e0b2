/**
 * The kernel's ORC unwind tables (x86_64), read from the dump: vmlinux's `.orc_unwind_ip` /
 * `.orc_unwind` sections (between `__start_orc_unwind_ip`/`__stop_orc_unwind_ip` and
 * `__start_orc_unwind`/`__stop_orc_unwind`) and each loaded module's own tables
 * (`struct module` → `arch.orc_unwind_ip`, `arch.orc_unwind`, `arch.num_orcs`).
 *
 * An ip table entry is an s32 relative to its own address; the entry at the same index in the
 * unwind table (6 bytes: s16 sp_offset, s16 bp_offset, a u16 of bitfields) describes how to find
 * the caller's frame from every instruction from that ip up to the next entry's ip. Both tables
 * are sorted by ip (vmlinux at build time by sorttable, modules at load time), so a lookup is a
 * binary search. Each table is read with one read and cached per dump.
 */
import type { KernelContext } from '../../context.js';
import { hugeBuffer, readVirtHuge, wordsView } from '../../dump/dump.js';

/** ORC_REG_* (arch/x86/include/asm/orc_types.h; unchanged since 4.14) */
export const OrcReg = {
  UNDEFINED: 0,
  PREV_SP: 1,
  DX: 2,
  DI: 3,
  BP: 4,
  SP: 5,
  R10: 6,
  R13: 7,
  BP_INDIRECT: 8,
  SP_INDIRECT: 9,
} as const;

/**
 * What an entry says about the frame. 'end': the outermost frame (an entry point's
 * UNWIND_HINT_EMPTY / END_OF_STACK); 'undefined': no valid information (a gap between functions,
 * or ORC_TYPE_UNDEFINED from 6.4).
 */
export type OrcType = 'call' | 'regs' | 'regs_partial' | 'end' | 'undefined';

export interface OrcEntry {
  spOffset: number;
  bpOffset: number;
  spReg: number;
  bpReg: number;
  type: OrcType;
  /** the frame's ip is exact, not a return address (set by REGS frames, and by `signal` from 6.3) */
  signal: boolean;
}

/**
 * The bitfield layout of the u16 at offset 4. It changed twice:
 * - up to 6.2: sp_reg:4, bp_reg:4, type:2 (CALL 0, REGS 1, REGS_PARTIAL 2), end:1, bits 11..15 unused;
 * - 6.3 (ffb1b4a41016 "x86/unwind/orc: Add 'signal' field to ORC metadata"): type:2, signal:1, end:1;
 * - 6.4 (fb799447ae29 "x86,objtool: Split UNWIND_HINT_EMPTY in two"): type:3 (UNDEFINED 0,
 *   END_OF_STACK 1, CALL 2, REGS 3, REGS_PARTIAL 4), signal:1, no end bit.
 * Told apart by shape: `struct orc_entry` in the types when they have it, else the kernel's own
 * table (orcLayoutFromEntries), never by the release string.
 */
export interface OrcLayout {
  spReg: Field;
  bpReg: Field;
  type: Field;
  end: Field | null;
  signal: Field | null;
  /** 'enum2': the type numbering up to 6.3; 'enum3': from 6.4 */
  typeEnum: 'enum2' | 'enum3';
  /** where the layout came from: `struct orc_entry` in the types, the table's own entries, or assumed (no table to read) */
  source: 'types' | 'table' | 'assumed';
}

interface Field { shift: number; bits: number }

const ENTRY_SIZE = 6;

const f = (shift: number, bits: number): Field => ({ shift, bits });
/** the three layouts, as `struct orc_entry` declares them */
const LAYOUT_END_BIT = { spReg: f(0, 4), bpReg: f(4, 4), type: f(8, 2), signal: null, end: f(10, 1), typeEnum: 'enum2' } as const;
const LAYOUT_SIGNAL_END = { spReg: f(0, 4), bpReg: f(4, 4), type: f(8, 2), signal: f(10, 1), end: f(11, 1), typeEnum: 'enum2' } as const;
const LAYOUT_TYPE3 = { spReg: f(0, 4), bpReg: f(4, 4), type: f(8, 3), signal: f(11, 1), end: null, typeEnum: 'enum3' } as const;

/**
 * The layout: `struct orc_entry` in the types (BTF or DWARF) when they have it, else read off the
 * kernel's own table (`entries`, orcLayoutFromEntries), else the oldest one (then there is no
 * table to decode anyway).
 */
export function orcLayout(vm: KernelContext, entries?: Buffer): OrcLayout {
  return layoutFromTypes(vm) ?? (entries ? orcLayoutFromEntries(entries) : null) ?? { ...LAYOUT_END_BIT, source: 'assumed' };
}

/**
 * The layout a table of 6-byte entries was written with, from its bits: most frames are CALL
 * frames with a real sp_reg, so the commonest value of bits 8..10 among them is CALL's number —
 * 2 in the type:3 numbering (6.4+), 0 before. Before 6.4, bit 11 is the end bit (6.3: set on
 * every entry point's outermost frame) or unused (up to 6.2: never set). Bits 12..15 are unused
 * in every layout; a table that sets them, or has no frame with a real sp_reg, is not ORC (null).
 */
export function orcLayoutFromEntries(entries: Buffer): OrcLayout | null {
  const n = Math.floor(entries.length / ENTRY_SIZE);
  const low3 = [0, 0, 0, 0, 0, 0, 0, 0];
  let bit11 = 0;
  let valid = 0;
  for (let i = 0; i < n; i++) {
    const bits = entries.readUInt16LE(i * ENTRY_SIZE + 4);
    if (bits & 0xf000) return null;
    if (bits & 0x800) bit11++;
    if ((bits & 0xf) === OrcReg.UNDEFINED) continue;
    valid++;
    low3[(bits >>> 8) & 7]++;
  }
  if (valid === 0) return null;
  const commonest = low3.indexOf(Math.max(...low3));
  if (commonest === 2) return { ...LAYOUT_TYPE3, source: 'table' };
  if (commonest !== 0) return null;
  return { ...(bit11 > 0 ? LAYOUT_SIGNAL_END : LAYOUT_END_BIT), source: 'table' };
}

function layoutFromTypes(vm: KernelContext): OrcLayout | null {
  let types;
  try { types = vm.types; } catch { return null; }
  const t = types.findType('struct orc_entry', { exact: true });
  if (t === null) return null;
  const field = (name: string): Field | null => {
    const m = types.tryMemberPath(t, name);
    if (!m) return null;
    // bit offsets count from the struct's start; the bitfield word starts at byte 4
    return { shift: m.bitOffset - 32, bits: m.bitSize ?? types.sizeof(m.type) * 8 };
  };
  const spReg = field('sp_reg');
  const bpReg = field('bp_reg');
  const type = field('type');
  if (!spReg || !bpReg || !type) return null;
  const end = field('end');
  // the END_OF_STACK type replaced the end bit in 6.4, and took the third type bit
  return { spReg, bpReg, type, end, signal: field('signal'), typeEnum: end ? 'enum2' : 'enum3', source: 'types' };
}

/** Decode the 6-byte entry at `off` of `buf`. */
export function decodeOrcEntry(buf: Buffer, off: number, layout: OrcLayout): OrcEntry {
  const bits = buf.readUInt16LE(off + 4);
  const get = (f: Field): number => (bits >>> f.shift) & ((1 << f.bits) - 1);
  const spReg = get(layout.spReg);
  const raw = get(layout.type);
  let type: OrcType;
  if (layout.typeEnum === 'enum3') {
    type = (['undefined', 'end', 'call', 'regs', 'regs_partial'] as const)[raw] ?? 'undefined';
  } else {
    type = (['call', 'regs', 'regs_partial'] as const)[raw] ?? 'undefined';
    // up to 6.3 "no information" is sp_reg UNDEFINED; with the end bit it marks the outermost frame
    if (layout.end && get(layout.end)) type = 'end';
    else if (spReg === OrcReg.UNDEFINED) type = 'undefined';
  }
  const signal = layout.signal ? get(layout.signal) === 1 : type === 'regs' || type === 'regs_partial';
  return { spOffset: buf.readInt16LE(off), bpOffset: buf.readInt16LE(off + 2), spReg, bpReg: get(layout.bpReg), type, signal };
}

/** One sorted pair of ORC tables (vmlinux's, or one module's). */
export class OrcTable {
  /** ips as offsets from `origin` (exact in a double: tables span far less than 2^53) */
  readonly #ips: Float64Array;
  constructor(
    readonly label: string,
    readonly origin: bigint,
    ips: Float64Array,
    readonly entries: Buffer,
    readonly layout: OrcLayout,
  ) {
    this.#ips = ips;
  }

  get size(): number { return this.#ips.length; }
  get first(): bigint { return this.origin + BigInt(this.#ips[0] ?? 0); }
  get last(): bigint { return this.origin + BigInt(this.#ips[this.#ips.length - 1] ?? 0); }

  /** the entry covering pc (the last one whose ip <= pc), or undefined outside the table */
  find(pc: bigint): OrcEntry | undefined {
    const ips = this.#ips;
    if (ips.length === 0) return undefined;
    const d = pc - this.origin;
    if (d < BigInt(ips[0]) || d > BigInt(ips[ips.length - 1])) return undefined;
    const x = Number(d);
    let lo = 0;
    let hi = ips.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (ips[mid] <= x) lo = mid; else hi = mid - 1;
    }
    return decodeOrcEntry(this.entries, lo * ENTRY_SIZE, this.layout);
  }

  /** Build from the raw tables: `ipBuf` holds s32s relative to their own address `ipAddr + 4*i`. */
  static fromRaw(label: string, ipAddr: bigint, ipBuf: Buffer, entries: Buffer, layout: OrcLayout): OrcTable {
    const n = Math.min(ipBuf.length >>> 2, Math.floor(entries.length / ENTRY_SIZE));
    // 2.9 MB for vmlinux's 368k entries: huge-page memory, filled through an Int32Array view of
    // the s32s where the buffer allows one (little-endian host, 4-aligned), else readInt32LE
    let ips = (n >= 1 << 17 ? wordsView(Float64Array, hugeBuffer(n * 8), 0, n) : null) ?? new Float64Array(n);
    const rel = wordsView(Int32Array, ipBuf, 0, n);
    let sorted = true;
    for (let i = 0; i < n; i++) {
      ips[i] = i * 4 + (rel ? rel[i] : ipBuf.readInt32LE(i * 4));
      if (i > 0 && ips[i] < ips[i - 1]) sorted = false;
    }
    if (!sorted) {
      // never seen in practice (both tables are sorted before use), but a lookup needs order
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ips[a] - ips[b]);
      const e2 = Buffer.alloc(n * ENTRY_SIZE);
      order.forEach((src, dst) => entries.copy(e2, dst * ENTRY_SIZE, src * ENTRY_SIZE, src * ENTRY_SIZE + ENTRY_SIZE));
      ips = Float64Array.from(order, (i) => ips[i]);
      entries = e2;
    }
    return new OrcTable(label, ipAddr, ips, entries, layout);
  }
}

export interface OrcHit { entry: OrcEntry; table: OrcTable }

/** Every ORC table of a dump: vmlinux's, and modules' (read on first lookup into each module). */
export class OrcUnwindInfo {
  readonly #modules = new Map<bigint, OrcTable | null>();
  constructor(readonly vm: KernelContext, readonly kernel: OrcTable | null, readonly layout: OrcLayout) {}

  find(pc: bigint): OrcHit | undefined {
    const k = this.kernel;
    if (k && pc >= k.first && pc <= k.last) {
      const entry = k.find(pc);
      if (entry) return { entry, table: k };
    }
    const mod = this.vm.modules?.moduleAt(pc);
    if (!mod) return undefined;
    let t = this.#modules.get(mod.address);
    if (t === undefined) {
      t = readModuleOrc(this.vm, mod.address, mod.name, this.layout);
      this.#modules.set(mod.address, t);
    }
    const entry = t?.find(pc);
    return entry && t ? { entry, table: t } : undefined;
  }
}

/** The dump's ORC tables (cached per dump). `kernel` is null when the kernel has no ORC. */
export function orcUnwindInfo(vm: KernelContext): OrcUnwindInfo {
  return vm.cache('x86_64.orc', () => {
    // the vmlinux table and its entry layout come from the image's read-only data alone: `image:` (see KernelContext.cache)
    const { table, layout } = vm.cache('image:x86_64.orc.vmlinux', () => {
      const raw = readKernelOrc(vm);
      const layout = orcLayout(vm, raw?.entries);
      return { table: raw ? OrcTable.fromRaw('vmlinux', raw.ipStart, raw.ipBuf, raw.entries, layout) : null, layout };
    });
    return new OrcUnwindInfo(vm, table, layout);
  });
}

/** vmlinux's two tables as the dump holds them (__start_orc_unwind_ip.., __start_orc_unwind..) */
function readKernelOrc(vm: KernelContext): { ipStart: bigint; ipBuf: Buffer; entries: Buffer } | null {
  const s = vm.symbols;
  const ipStart = s.lookup('__start_orc_unwind_ip')?.address;
  const ipStop = s.lookup('__stop_orc_unwind_ip')?.address;
  const uStart = s.lookup('__start_orc_unwind')?.address;
  const uStop = s.lookup('__stop_orc_unwind')?.address;
  if (ipStart === undefined || ipStop === undefined || uStart === undefined || uStop === undefined) return null;
  const n = Number(ipStop - ipStart) / 4;
  if (!Number.isInteger(n) || n <= 0 || n > 4_000_000 || Number(uStop - uStart) < n * ENTRY_SIZE) return null;
  try {
    // ~3.7 MB on a 6.1 kernel: into huge-page memory, where a fresh buffer's first touches cost ~12 ms
    return { ipStart, ipBuf: readVirtHuge(vm.mem, ipStart, n * 4), entries: readVirtHuge(vm.mem, uStart, n * ENTRY_SIZE) };
  } catch {
    return null;
  }
}

function readModuleOrc(vm: KernelContext, modAddr: bigint, name: string, layout: OrcLayout): OrcTable | null {
  try {
    const arch = vm.objectAt(modAddr, 'struct module').member('arch');
    const n = arch.member('num_orcs').number();
    if (n <= 0 || n > 1_000_000) return null;
    const ipAddr = arch.member('orc_unwind_ip').pointer();
    const uAddr = arch.member('orc_unwind').pointer();
    return OrcTable.fromRaw(name, ipAddr, vm.mem.readVirt(ipAddr, n * 4), vm.mem.readVirt(uAddr, n * ENTRY_SIZE), layout);
  } catch {
    return null;
  }
}
