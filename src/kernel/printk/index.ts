/**
 * The kernel log (what dmesg and crash's `log` print), read from a dump with no DWARF: every layout
 * comes from VMCOREINFO, which describes both printk buffer formats the kernel has had since 3.5,
 * with an optional override for callers that know better (BTF/DWARF).
 *
 *  - v5.10+: the lockless ring buffer ("printk: introduce lockless ringbuffer", v5.10): a descriptor
 *    ring (state + text block position), a parallel printk_info array (seq, time, level ...) and a
 *    text data ring of blocks that each start with their descriptor id.
 *  - v3.5..v5.9: `log_buf`, variable-length `struct printk_log` records ("printk: convert byte-buffer
 *    to variable-length record buffer", v3.5; the struct was `struct log` until v3.11).
 */
import { VaatError } from '../../dump/errors.js';
import type { MemoryReader } from '../../dump/dump.js';
import type { VmcoreInfo } from '../../dump/vmcoreinfo.js';

export interface LogRecord {
  seq: number;
  tsNsec: bigint;
  /** syslog level 0..7 (null when the layout does not say where it is) */
  level: number | null;
  facility: number | null;
  /** `T<pid>` (task context) or `C<cpu>` (other contexts), null when the kernel does not record it */
  callerId: string | null;
  /** the message; embedded newlines are kept (one record, several lines) */
  text: string;
  /** dev_printk() properties (SUBSYSTEM=, DEVICE=), as crash `log -d` shows them; absent if none */
  dict?: Record<string, string>;
}

/** Member offsets of the v5.10+ ring buffer structures (bytes). Names follow the kernel's. */
export interface PrbLayout {
  ringDescRing: number;          // printk_ringbuffer.desc_ring
  ringTextDataRing: number;      // printk_ringbuffer.text_data_ring
  descRingCountBits: number;     // prb_desc_ring.count_bits
  descRingDescs: number;
  descRingInfos: number;
  descRingHeadId: number;
  descRingTailId: number;
  descSize: number;              // SIZE(prb_desc)
  descStateVar: number;
  descTextBlkLpos: number;
  lposBegin: number;
  lposNext: number;
  infoSize: number;              // SIZE(printk_info)
  infoSeq: number;
  infoTsNsec: number;
  infoTextLen: number;
  infoCallerId: number;
  /** byte holding facility, and the byte holding `flags:5, level:3`; null when unknown */
  infoFacility: number | null;
  infoFlagsLevel: number | null;
  infoDevInfo: number | null;
  devInfoSubsystem: number;
  devInfoDevice: number;
  subsystemLen: number;
  deviceLen: number;
  dataRingSizeBits: number;
  dataRingData: number;
  atomicCounter: number;         // atomic_long_t.counter
  /** sizeof(unsigned long): state_var, lpos and block ids are this wide */
  longSize: number;
}

/** Offsets of `struct printk_log` (v3.11..v5.9; `struct log` v3.5..v3.10). */
export interface LogBufLayout {
  size: number;
  tsNsec: number;
  len: number;
  textLen: number;
  dictLen: number;
  facility: number | null;
  flagsLevel: number | null;
  /** CONFIG_PRINTK_CALLER (v5.1+) only */
  callerId: number | null;
}

export interface ReadLogOptions {
  /** layout overrides (from BTF/DWARF) taking precedence over VMCOREINFO */
  prbLayout?: Partial<PrbLayout>;
  logBufLayout?: Partial<LogBufLayout>;
  /** symbol lookup for what VMCOREINFO lacks (e.g. System.map + KASLR offset, kallsyms) */
  symbol?: (name: string) => bigint | undefined;
}

export class PrintkError extends VaatError {
  constructor(message: string) {
    super(message);
    this.name = 'PrintkError';
  }
}

/** Read every record still in the kernel log, oldest first. */
export function readKernelLog(mem: MemoryReader, info: VmcoreInfo, opts: ReadLogOptions = {}): LogRecord[] {
  const sym = (name: string): bigint | undefined => info.symbol(name) ?? opts.symbol?.(name);
  const prb = sym('prb');
  if (prb !== undefined) return readPrb(mem, prb, prbLayoutFrom(info, opts.prbLayout));
  const logBuf = sym('log_buf');
  if (logBuf !== undefined) return readLogBuf(mem, info, sym, logBufLayoutFrom(info, opts.logBufLayout));
  throw new PrintkError('no kernel log: VMCOREINFO has neither SYMBOL(prb) nor SYMBOL(log_buf)');
}

// ---------------------------------------------------------------------------------------------
// v5.10+ lockless ring buffer

function need(v: number | undefined, key: string): number {
  if (v === undefined) throw new PrintkError(`VMCOREINFO lacks ${key} and no layout override gives it`);
  return v;
}

/** The ring buffer layout from VMCOREINFO (kernel/printk/printk.c log_buf_vmcoreinfo_setup), then overrides. */
export function prbLayoutFrom(info: VmcoreInfo, over: Partial<PrbLayout> = {}): PrbLayout {
  const o = (path: string): number | undefined => info.offset(path);
  const pick = (k: keyof PrbLayout, v: number | undefined, key: string): number => over[k] ?? need(v, key);
  const textLen = pick('infoTextLen', o('printk_info.text_len'), 'OFFSET(printk_info.text_len)');
  const callerId = pick('infoCallerId', o('printk_info.caller_id'), 'OFFSET(printk_info.caller_id)');
  // VMCOREINFO does not export facility/level. Every kernel since v5.10 declares
  // `u16 text_len; u8 facility; u8 flags:5, level:3; u32 caller_id;` — trust that only when
  // caller_id sits exactly where that declaration puts it.
  const packed = callerId === textLen + 4;
  return {
    ringDescRing: pick('ringDescRing', o('printk_ringbuffer.desc_ring'), 'OFFSET(printk_ringbuffer.desc_ring)'),
    ringTextDataRing: pick('ringTextDataRing', o('printk_ringbuffer.text_data_ring'), 'OFFSET(printk_ringbuffer.text_data_ring)'),
    descRingCountBits: pick('descRingCountBits', o('prb_desc_ring.count_bits'), 'OFFSET(prb_desc_ring.count_bits)'),
    descRingDescs: pick('descRingDescs', o('prb_desc_ring.descs'), 'OFFSET(prb_desc_ring.descs)'),
    descRingInfos: pick('descRingInfos', o('prb_desc_ring.infos'), 'OFFSET(prb_desc_ring.infos)'),
    descRingHeadId: pick('descRingHeadId', o('prb_desc_ring.head_id'), 'OFFSET(prb_desc_ring.head_id)'),
    descRingTailId: pick('descRingTailId', o('prb_desc_ring.tail_id'), 'OFFSET(prb_desc_ring.tail_id)'),
    descSize: pick('descSize', info.size('prb_desc'), 'SIZE(prb_desc)'),
    descStateVar: pick('descStateVar', o('prb_desc.state_var'), 'OFFSET(prb_desc.state_var)'),
    descTextBlkLpos: pick('descTextBlkLpos', o('prb_desc.text_blk_lpos'), 'OFFSET(prb_desc.text_blk_lpos)'),
    lposBegin: pick('lposBegin', o('prb_data_blk_lpos.begin'), 'OFFSET(prb_data_blk_lpos.begin)'),
    lposNext: pick('lposNext', o('prb_data_blk_lpos.next'), 'OFFSET(prb_data_blk_lpos.next)'),
    infoSize: pick('infoSize', info.size('printk_info'), 'SIZE(printk_info)'),
    infoSeq: pick('infoSeq', o('printk_info.seq'), 'OFFSET(printk_info.seq)'),
    infoTsNsec: pick('infoTsNsec', o('printk_info.ts_nsec'), 'OFFSET(printk_info.ts_nsec)'),
    infoTextLen: textLen,
    infoCallerId: callerId,
    infoFacility: over.infoFacility !== undefined ? over.infoFacility : packed ? textLen + 2 : null,
    infoFlagsLevel: over.infoFlagsLevel !== undefined ? over.infoFlagsLevel : packed ? textLen + 3 : null,
    // dev_info arrived with "printk: move dictionary keys to dev_printk_info", v5.10
    infoDevInfo: over.infoDevInfo !== undefined ? over.infoDevInfo : o('printk_info.dev_info') ?? null,
    devInfoSubsystem: over.devInfoSubsystem ?? o('dev_printk_info.subsystem') ?? 0,
    devInfoDevice: over.devInfoDevice ?? o('dev_printk_info.device') ?? 16,
    subsystemLen: over.subsystemLen ?? info.length('printk_info_subsystem') ?? 16,
    deviceLen: over.deviceLen ?? info.length('printk_info_device') ?? 48,
    dataRingSizeBits: pick('dataRingSizeBits', o('prb_data_ring.size_bits'), 'OFFSET(prb_data_ring.size_bits)'),
    dataRingData: pick('dataRingData', o('prb_data_ring.data'), 'OFFSET(prb_data_ring.data)'),
    atomicCounter: over.atomicCounter ?? o('atomic_long_t.counter') ?? 0,
    longSize: over.longSize ?? info.size('atomic_long_t') ?? 8,
  };
}

// Descriptor states live in the top two bits of state_var (v5.10 final: "printk: ringbuffer: add
// finalization/extension support" replaced the committed/reuse flag bits with this 2-bit state).
const DESC_COMMITTED = 1n;
const DESC_FINALIZED = 2n;

function readULong(buf: Buffer, off: number, size: number): bigint {
  return size === 8 ? buf.readBigUInt64LE(off) : BigInt(buf.readUInt32LE(off));
}

/**
 * Every member the reader touches must lie inside its structure as VMCOREINFO sizes it: a damaged
 * OFFSET() or SIZE() line is a fault of the dump, said so, not a read outside a buffer.
 */
function checkPrbLayout(L: PrbLayout): void {
  const bad = (what: string): never => { throw new PrintkError(`VMCOREINFO's printk layout is inconsistent: ${what}`); };
  if (L.longSize !== 4 && L.longSize !== 8) bad(`SIZE(atomic_long_t) = ${L.longSize}`);
  for (const [key, v] of [['SIZE(prb_desc)', L.descSize], ['SIZE(printk_info)', L.infoSize]] as const) {
    if (!Number.isSafeInteger(v) || v <= 0 || v > 1 << 16) bad(`${key} = ${v}`);
  }
  const within = (what: string, off: number | null, width: number, size: number, sizeKey: string): void => {
    if (off !== null && (!Number.isSafeInteger(off) || off < 0 || off + width > size)) bad(`${what} at ${off} (${width} bytes) lies outside ${sizeKey} = ${size}`);
  };
  const ls = L.longSize;
  within('prb_desc.state_var', L.descStateVar + L.atomicCounter, ls, L.descSize, 'SIZE(prb_desc)');
  within('prb_desc.text_blk_lpos.begin', L.descTextBlkLpos + L.lposBegin, ls, L.descSize, 'SIZE(prb_desc)');
  within('prb_desc.text_blk_lpos.next', L.descTextBlkLpos + L.lposNext, ls, L.descSize, 'SIZE(prb_desc)');
  within('printk_info.seq', L.infoSeq, 8, L.infoSize, 'SIZE(printk_info)');
  within('printk_info.ts_nsec', L.infoTsNsec, 8, L.infoSize, 'SIZE(printk_info)');
  within('printk_info.text_len', L.infoTextLen, 2, L.infoSize, 'SIZE(printk_info)');
  within('printk_info.caller_id', L.infoCallerId, 4, L.infoSize, 'SIZE(printk_info)');
  within('printk_info facility', L.infoFacility, 1, L.infoSize, 'SIZE(printk_info)');
  within('printk_info flags/level', L.infoFlagsLevel, 1, L.infoSize, 'SIZE(printk_info)');
  if (L.infoDevInfo !== null) {
    within('printk_info.dev_info.subsystem', L.infoDevInfo + L.devInfoSubsystem, L.subsystemLen, L.infoSize, 'SIZE(printk_info)');
    within('printk_info.dev_info.device', L.infoDevInfo + L.devInfoDevice, L.deviceLen, L.infoSize, 'SIZE(printk_info)');
  }
}

function readPrb(mem: MemoryReader, prbSym: bigint, L: PrbLayout): LogRecord[] {
  checkPrbLayout(L);
  const ls = L.longSize;
  const bits = BigInt(ls * 8);
  const longMask = (1n << bits) - 1n;
  const flagsShift = bits - 2n;
  const idMask = longMask & ~(3n << flagsShift);

  // SYMBOL(prb) is the pointer variable `prb` (normally &printk_rb_static, or the dynamic one
  // setup_log_buf() installs for log_buf_len=).
  const rb = readULong(mem.readVirt(prbSym, ls), 0, ls);
  const hdrLen = Math.max(
    L.ringDescRing + Math.max(L.descRingCountBits + 4, L.descRingDescs, L.descRingInfos, L.descRingHeadId, L.descRingTailId) + ls,
    L.ringTextDataRing + Math.max(L.dataRingSizeBits + 4, L.dataRingData + ls),
  );
  const hdr = mem.readVirt(rb, hdrLen);
  const dr = L.ringDescRing;
  const tr = L.ringTextDataRing;
  const countBits = hdr.readUInt32LE(dr + L.descRingCountBits);
  const sizeBits = hdr.readUInt32LE(tr + L.dataRingSizeBits);
  if (countBits > 22 || sizeBits > 31 || sizeBits < 4) {
    throw new PrintkError(`implausible ring buffer at 0x${rb.toString(16)}: count_bits ${countBits}, size_bits ${sizeBits}`);
  }
  const count = 1 << countBits;
  const descsAddr = readULong(hdr, dr + L.descRingDescs, ls);
  const infosAddr = readULong(hdr, dr + L.descRingInfos, ls);
  const headId = readULong(hdr, dr + L.descRingHeadId + L.atomicCounter, ls);
  const tailId = readULong(hdr, dr + L.descRingTailId + L.atomicCounter, ls);
  const dataAddr = readULong(hdr, tr + L.dataRingData, ls);
  const dataSize = 2 ** sizeBits;
  const dataMask = BigInt(dataSize - 1);

  // Three big reads: descriptors, infos, text ring.
  const descs = readLenient(mem, descsAddr, count * L.descSize);
  const infos = readLenient(mem, infosAddr, count * L.infoSize);
  const data = readLenient(mem, dataAddr, dataSize);

  const out: LogRecord[] = [];
  let id = tailId;
  for (let n = 0; n < count; n++) { // [tail, head] spans at most count ids
    const rec = readPrbRecord(id);
    if (rec) out.push(rec);
    if (id === headId) break;
    id = (id + 1n) & idMask;
  }
  return out;

  function readPrbRecord(recId: bigint): LogRecord | null {
    const idx = Number(recId & BigInt(count - 1));
    const d = idx * L.descSize;
    const i = idx * L.infoSize;
    if (!descs.ok(d, L.descSize) || !infos.ok(i, L.infoSize)) return null;
    const sv = readULong(descs, d + L.descStateVar + L.atomicCounter, ls);
    const state = (sv >> flagsShift) & 3n;
    // committed (written, may still be extended) or finalized; reserved = being written, reusable = dropped
    if (state !== DESC_COMMITTED && state !== DESC_FINALIZED) return null;
    if ((sv & idMask) !== recId) return null; // slot already recycled for another id
    const begin = readULong(descs, d + L.descTextBlkLpos + L.lposBegin, ls);
    const next = readULong(descs, d + L.descTextBlkLpos + L.lposNext, ls);
    const textLen = infos.readUInt16LE(i + L.infoTextLen);
    let text = '';
    if ((begin & 1n) !== 0n || (next & 1n) !== 0n) {
      // data-less: NO_LPOS (3; EMPTY_LINE_LPOS since v6.10) is an empty line, FAILED_LPOS (1) lost its text
      if (begin !== 3n || next !== 3n) return null;
    } else {
      const blk = blockOf(begin, next);
      if (!blk || !data.ok(blk.off, blk.len)) return null;
      // Each block starts with the id of the descriptor that owns it; anything else was overwritten.
      if (readULong(data, blk.off, ls) !== (recId & idMask)) return null;
      const avail = blk.len - ls;
      if (avail < textLen) return null; // as the kernel's copy_data(): a short block is invalid
      text = data.toString('utf8', blk.off + ls, blk.off + ls + textLen);
    }
    const rec: LogRecord = {
      seq: Number(infos.readBigUInt64LE(i + L.infoSeq)),
      tsNsec: infos.readBigUInt64LE(i + L.infoTsNsec),
      level: L.infoFlagsLevel === null ? null : infos.readUInt8(i + L.infoFlagsLevel) >> 5,
      facility: L.infoFacility === null ? null : infos.readUInt8(i + L.infoFacility),
      callerId: callerIdString(infos.readUInt32LE(i + L.infoCallerId)),
      text,
    };
    if (L.infoDevInfo !== null) {
      const dv = i + L.infoDevInfo;
      const subsystem = cString(infos, dv + L.devInfoSubsystem, L.subsystemLen);
      const device = cString(infos, dv + L.devInfoDevice, L.deviceLen);
      if (subsystem || device) {
        rec.dict = {};
        if (subsystem) rec.dict.SUBSYSTEM = subsystem;
        if (device) rec.dict.DEVICE = device;
      }
    }
    return rec;
  }

  /**
   * Where a block's bytes are (kernel get_data()). lpos values are unsigned longs that start just
   * below 2^BITS_PER_LONG and wrap, so the arithmetic is modulo longMask. A block that would cross
   * the ring's end is stored whole at offset 0, with `begin` still in the previous wrap.
   */
  function blockOf(begin: bigint, next: bigint): { off: number; len: number } | null {
    const wraps = (lpos: bigint): bigint => (lpos & longMask) >> BigInt(sizeBits);
    let off: number;
    let len: number;
    if (wraps(begin) === wraps(next) && begin < next) {
      off = Number(begin & dataMask);
      len = Number(next - begin);
    } else if (wraps(begin + BigInt(dataSize)) === wraps(next)) {
      off = 0;
      len = Number(next & dataMask);
    } else {
      return null;
    }
    if (len < ls || off + len > dataSize || (begin | next) % BigInt(ls) !== 0n) return null;
    return { off, len };
  }
}

type CheckedBuffer = Buffer & { ok(off: number, len: number): boolean };

/**
 * One large read; should it fail (a page missing from the dump), read page by page so the
 * records on the pages that are present still come out, and report which bytes are real.
 */
function readLenient(mem: MemoryReader, addr: bigint, len: number): CheckedBuffer {
  try {
    return Object.assign(mem.readVirt(addr, len), { ok: () => true });
  } catch {
    const PAGE = 4096;
    const first = addr - (addr % BigInt(PAGE));
    const n = Math.ceil(Number(addr + BigInt(len) - first) / PAGE);
    const pages = mem.readVirtMany(Array.from({ length: n }, (_, k) => first + BigInt(k * PAGE)), PAGE, true);
    const whole = Buffer.concat(pages.map((p) => p ?? Buffer.alloc(PAGE)));
    const skip = Number(addr - first);
    const buf = whole.subarray(skip, skip + len);
    const ok = (off: number, l: number): boolean => {
      for (let p = Math.floor((skip + off) / PAGE); p <= Math.floor((skip + off + l - 1) / PAGE); p++) if (!pages[p]) return false;
      return true;
    };
    return Object.assign(buf, { ok });
  }
}

/** printk_caller_id(): bit 31 set means a CPU number (interrupt/NMI context), else a pid. */
function callerIdString(v: number): string {
  return v & 0x80000000 ? `C${v & 0x7fffffff}` : `T${v}`;
}

function cString(buf: Buffer, off: number, max: number): string {
  const end = Math.min(off + max, buf.length);
  let nul = buf.indexOf(0, off);
  if (nul < 0 || nul > end) nul = end;
  return buf.toString('utf8', off, nul);
}

// ---------------------------------------------------------------------------------------------
// v3.5..v5.9 log_buf

/** struct printk_log offsets from VMCOREINFO (`printk_log`, or `log` before v3.11), then overrides. */
export function logBufLayoutFrom(info: VmcoreInfo, over: Partial<LogBufLayout> = {}): LogBufLayout {
  const name = info.size('printk_log') !== undefined ? 'printk_log' : 'log';
  const o = (m: string): number | undefined => info.offset(`${name}.${m}`);
  const size = over.size ?? need(info.size(name), `SIZE(${name})`);
  const dictLen = over.dictLen ?? need(o('dict_len'), `OFFSET(${name}.dict_len)`);
  const callerId = over.callerId !== undefined ? over.callerId : o('caller_id') ?? null;
  // `u16 dict_len; u8 facility; u8 flags:5, level:3;` — unchanged from v3.5 to v5.9, but not in
  // VMCOREINFO; trust it only when the struct has room for those two bytes after dict_len.
  const packed = dictLen + 4 <= size && (callerId === null || callerId === dictLen + 4);
  return {
    size,
    tsNsec: over.tsNsec ?? need(o('ts_nsec'), `OFFSET(${name}.ts_nsec)`),
    len: over.len ?? need(o('len'), `OFFSET(${name}.len)`),
    textLen: over.textLen ?? need(o('text_len'), `OFFSET(${name}.text_len)`),
    dictLen,
    facility: over.facility !== undefined ? over.facility : packed ? dictLen + 2 : null,
    flagsLevel: over.flagsLevel !== undefined ? over.flagsLevel : packed ? dictLen + 3 : null,
    callerId,
  };
}

function readLogBuf(
  mem: MemoryReader,
  info: VmcoreInfo,
  sym: (name: string) => bigint | undefined,
  L: LogBufLayout,
): LogRecord[] {
  const addrOf = (name: string): bigint => {
    const a = sym(name);
    if (a === undefined) throw new PrintkError(`VMCOREINFO lacks SYMBOL(${name})`);
    return a;
  };
  const ptrSize = info.size('atomic_long_t') ?? 8; // absent before v5.10; x86_64 and other 64-bit: 8
  const bufAddr = readULong(mem.readVirt(addrOf('log_buf'), ptrSize), 0, ptrSize); // `char *log_buf`
  const bufLen = mem.readVirt(addrOf('log_buf_len'), 4).readUInt32LE(0);
  const first = mem.readVirt(addrOf('log_first_idx'), 4).readUInt32LE(0);
  const next = mem.readVirt(addrOf('log_next_idx'), 4).readUInt32LE(0);
  if (bufLen === 0 || bufLen > 2 ** 31 || first >= bufLen || next >= bufLen) {
    throw new PrintkError(`implausible log_buf: len ${bufLen}, first_idx ${first}, next_idx ${next}`);
  }
  // log_first_seq is not in VMCOREINFO; number from it when the caller can resolve it.
  const seqAddr = sym('log_first_seq');
  let seq = seqAddr === undefined ? 0 : Number(mem.readVirt(seqAddr, 8).readBigUInt64LE(0));
  const buf = mem.readVirt(bufAddr, bufLen);

  const out: LogRecord[] = [];
  let idx = first;
  // first === next means empty: log_store() always leaves room for a wrap header, so a full
  // buffer never has them meet. Every record is at least a header long, which bounds the walk.
  for (let n = 0; idx !== next && n <= bufLen / L.size + 1; n++) {
    // A zeroed header (len 0), or no room left for one, marks the end of the used part: wrap.
    const len = idx + L.size <= bufLen ? buf.readUInt16LE(idx + L.len) : 0;
    if (len === 0) {
      if (idx === 0) break; // corrupt: a wrap marker at the start
      idx = 0;
      continue;
    }
    if (len < L.size || idx + len > bufLen) break; // corrupt
    const textLen = buf.readUInt16LE(idx + L.textLen);
    const dictLen = buf.readUInt16LE(idx + L.dictLen);
    const textStart = idx + L.size;
    if (L.size + textLen + dictLen > len) break;
    const rec: LogRecord = {
      seq: seq++,
      tsNsec: buf.readBigUInt64LE(idx + L.tsNsec),
      level: L.flagsLevel === null ? null : buf.readUInt8(idx + L.flagsLevel) >> 5,
      facility: L.facility === null ? null : buf.readUInt8(idx + L.facility),
      callerId: L.callerId === null ? null : callerIdString(buf.readUInt32LE(idx + L.callerId)),
      text: buf.toString('utf8', textStart, textStart + textLen),
    };
    if (dictLen > 0) rec.dict = parseDict(buf.subarray(textStart + textLen, textStart + textLen + dictLen));
    out.push(rec);
    idx += len;
  }
  return out;
}

/** The pre-v5.10 dictionary: NUL-separated KEY=value pairs. */
function parseDict(b: Buffer): Record<string, string> {
  const d: Record<string, string> = {};
  for (const kv of b.toString('utf8').split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) d[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// The console line's time and the boot time (records as text: src/output/printk-text.ts)

/**
 * `[%5lu.%06lu]` as printk's print_time() writes it: part of every line the kernel printed, so
 * the fault-report lines below (evidence, matched by the fleet signature) carry it as it was.
 */
export function formatTimestamp(tsNsec: bigint): string {
  const sec = tsNsec / 1_000_000_000n;
  const usec = (tsNsec % 1_000_000_000n) / 1000n;
  return `[${sec.toString().padStart(5, ' ')}.${usec.toString().padStart(6, '0')}]`;
}

/**
 * Boot time, seconds since the epoch, for records in wall-clock time: the crash time (VMCOREINFO
 * CRASHTIME) less the uptime at the crash. Without a better uptime (jiffies), the last record's
 * timestamp is the closest one the log has.
 */
export function bootTimeFromCrash(crashTime: number, uptime: bigint | readonly LogRecord[]): number {
  const ns = typeof uptime === 'bigint' ? uptime : uptime.length ? uptime[uptime.length - 1].tsNsec : 0n;
  return crashTime - Number(ns / 1_000_000_000n);
}

// ---------------------------------------------------------------------------------------------
// Panic / oops lines

const PANIC_PREFIX = 'Kernel panic - not syncing: ';
/**
 * The first line of a kernel fault report: oops/BUG/WARN (arch traps, lib/bug.c), the lockup and
 * hung-task detectors (kernel/watchdog*.c, kernel/hung_task.c) and RCU stall warnings.
 */
const OOPS_RE = new RegExp(
  '^(?:(?:NMI )?watchdog: |rcu: )?(?:' +
    [
      'BUG: ',
      'Oops: ',
      'Oops - ',
      'general protection fault',
      'WARNING: ',
      'kernel BUG at ',
      'Unable to handle kernel ',
      'Internal error: ', // arm64 die(): "Internal error: Oops: 0000000096000006 [#1] SMP"
      'Watchdog detected hard LOCKUP',
      'INFO: task \\S.* blocked for more than ',
      'INFO: rcu_\\w+ (?:self-)?detected (?:expedited )?stalls?',
    ].join('|') +
    ')',
);

export interface PanicLines {
  /** text after "Kernel panic - not syncing: ", else (kdump entered from an oops) the last oops line */
  panicMessage: string | null;
  panicSource: 'panic' | 'oops' | null;
  panicRecord: LogRecord | null;
  /** records whose first line opens a fault report, oldest first */
  oopsRecords: LogRecord[];
  /** the same formatted `[    2.849511] text` */
  oopsLines: string[];
}

export function panicLinesFromLog(records: readonly LogRecord[]): PanicLines {
  const oopsRecords = records.filter((r) => OOPS_RE.test(firstLine(r.text)));
  const panicRecord = records.find((r) => r.text.startsWith(PANIC_PREFIX)) ?? null;
  const lastOops = oopsRecords.length ? oopsRecords[oopsRecords.length - 1] : null;
  return {
    panicMessage: panicRecord
      ? firstLine(panicRecord.text).slice(PANIC_PREFIX.length)
      : lastOops
        ? firstLine(lastOops.text)
        : null,
    panicSource: panicRecord ? 'panic' : lastOops ? 'oops' : null,
    panicRecord: panicRecord ?? lastOops,
    oopsRecords,
    oopsLines: oopsRecords.map((r) => `${formatTimestamp(r.tsNsec)} ${firstLine(r.text)}`),
  };
}

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return nl < 0 ? s : s.slice(0, nl);
}
