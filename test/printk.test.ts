/**
 * The kernel log read from every real fixture (against drgn's dmesg tail, crash's `log` and the
 * panic lines in truth.json), and both buffer formats built byte by byte here from the kernel's
 * documented layouts: a v5.10+ ring buffer that has wrapped and recycled descriptors, and a
 * pre-v5.10 log_buf that has wrapped.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { Dump, type MemoryReader } from '../src/dump/dump.js';
import { VmcoreInfo } from '../src/dump/vmcoreinfo.js';
import { bootTimeFromCrash, panicLinesFromLog, readKernelLog, type LogRecord } from '../src/kernel/printk/index.js';
import { formatLog, formatLogLine, formatLogLines, formatTimestamp, formatWallClock } from '../src/output/printk-text.js';
import { comparableOopsLines, crashTruthNote, drgnTruth, dumps, fixturesDir, truth } from './fixtures.js';

// ---------------------------------------------------------------------------------------------
// Real dumps

function crashLog(scenario: string): string[] {
  const lines = readFileSync(join(fixturesDir, scenario, 'truth', 'crash', 'log.txt'), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

interface LogTruth {
  file: string;
  dmesg_tail: string[];
  panic: { message: string; oops_lines: string[] };
}

/**
 * drgn's dmesg tail and panic lines. qemu-dump's truth.json has neither (drgn 0.0.22 faults on
 * that guest's page tables, see its `errors`); the newest drgn's truth file has both.
 */
function logTruth(scenario: string): LogTruth {
  for (const t of [truth(scenario), drgnTruth(scenario)]) {
    const file = `drgn ${t.drgn_version}`;
    if (t.dmesg_tail?.length && t.panic) return { file, dmesg_tail: t.dmesg_tail, panic: t.panic };
  }
  throw new Error(`${scenario}: no truth file has dmesg_tail and panic`);
}

/** index and both sides of the first differing line, or null when equal */
function firstDiff(a: readonly string[], b: readonly string[]): { line: number; ours?: string; theirs?: string } | null {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return { line: i + 1, ours: a[i], theirs: b[i] };
  return null;
}

describe('kernel log from every fixture dump', () => {
  it('has fixtures to read', () => {
    expect(dumps.length).toBeGreaterThanOrEqual(7);
  });
  for (const d of dumps) {
    describe(`${d.scenario}/${d.name}`, () => {
      let recs: LogRecord[] | undefined;
      const records = (): LogRecord[] => {
        if (!recs) {
          const dump = Dump.open(d.path);
          try {
            recs = readKernelLog(dump, dump.vmcoreinfo);
          } finally {
            dump.close();
          }
        }
        return recs;
      };

      it('last 60 lines equal drgn dmesg_tail', () => {
        // drgn's get_dmesg() prints continuation lines of a multi-line record bare
        const t = logTruth(d.scenario);
        expect(t.dmesg_tail.length).toBe(60);
        expect(formatLog(records(), { continuation: 'drgn' }).slice(-60)).toEqual(t.dmesg_tail);
      });

      const crashNote = crashTruthNote(d.scenario, 'log.txt');
      (crashNote ? it.skip : it)(`whole log equals crash \`log\` line by line${crashNote}`, () => {
        // crash indents continuation lines to the timestamp's width
        const ours = formatLog(records(), { continuation: 'crash' });
        expect(firstDiff(ours, crashLog(d.scenario))).toBeNull();
      });

      it('records are in sequence, with levels and caller ids', () => {
        const r = records();
        r.forEach((rec, i) => i > 0 && expect(rec.seq).toBe(r[i - 1].seq + 1));
        expect(r.every((x) => x.level !== null && x.level >= 0 && x.level <= 7)).toBe(true);
        expect(r.every((x) => /^[TC]\d+$/.test(x.callerId ?? ''))).toBe(true);
        // the log starts at boot: the banner is the first record (arm64 prints "Booting Linux on
        // physical CPU ..." from smp_setup_processor_id() just before it)
        const banner = r.findIndex((x) => x.text.startsWith(`Linux version ${d.kernel.release} `));
        expect(banner).toBeGreaterThanOrEqual(0);
        expect(banner).toBeLessThanOrEqual(1);
        expect(r[banner].level).toBe(5); // KERN_NOTICE linux_banner
      });

      it('every line above debug level is on the guest serial console, in order; debug lines are not', () => {
        // The console prints each line of a record with its prefix ('kernel' style), only below
        // loglevel=7: an independent check of the text, the continuation style and the levels.
        const con = gunzipSync(readFileSync(join(fixturesDir, d.scenario, 'console.log.gz'))).toString('utf8').split(/\r?\n/);
        let at = 0;
        const offConsole: LogRecord[] = [];
        for (const r of records()) {
          for (const l of formatLogLines(r)) {
            const k = con.indexOf(l, at);
            if (k < 0) offConsole.push(r);
            else at = k + 1;
          }
        }
        expect(offConsole.length).toBeGreaterThan(0);
        expect(offConsole.every((r) => r.level === 7)).toBe(true);
        expect(records().filter((r) => r.level === 7)).toEqual([...new Set(offConsole)]);
      });

      it('panic message and oops lines equal drgn truth panic', () => {
        const p = panicLinesFromLog(records());
        const t = logTruth(d.scenario);
        expect(p.panicMessage).toBe(t.panic.message);
        const cmp = comparableOopsLines(p.oopsLines, t.panic.oops_lines);
        expect(cmp.ours).toEqual(cmp.truth);
        expect(p.panicSource).toBe(t.panic.message_source.startsWith('Kernel panic') ? 'panic' : 'oops');
        // and crash's log agrees on the panic line, where there is one (crash reads no arm64 dump here)
        if (crashNote) return;
        const line = crashLog(d.scenario).find((l) => l.includes('Kernel panic - not syncing: '));
        expect(p.panicSource).toBe(line ? 'panic' : 'oops');
        if (line) expect(`${formatTimestamp(p.panicRecord!.tsNsec)} Kernel panic - not syncing: ${p.panicMessage}`).toBe(line);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Synthetic buffers

/** a MemoryReader over a few virtual ranges */
class FakeMemory implements MemoryReader {
  readonly file = '<synthetic>';
  readonly regions: { addr: bigint; buf: Buffer }[] = [];
  map(addr: bigint, buf: Buffer): this {
    this.regions.push({ addr, buf });
    return this;
  }
  readonly holes: { addr: bigint; len: number }[] = [];
  /** make a range unreadable, like a page the dump left out */
  hole(addr: bigint, len: number): this {
    this.holes.push({ addr, len });
    return this;
  }
  readVirt(addr: bigint, len: number): Buffer {
    if (this.holes.some((h) => addr < h.addr + BigInt(h.len) && h.addr < addr + BigInt(len))) {
      throw new Error(`excluded 0x${addr.toString(16)}`);
    }
    for (const r of this.regions) {
      if (addr >= r.addr && addr + BigInt(len) <= r.addr + BigInt(r.buf.length)) {
        const o = Number(addr - r.addr);
        return r.buf.subarray(o, o + len);
      }
    }
    throw new Error(`unmapped 0x${addr.toString(16)}+${len}`);
  }
  readPhys(): Buffer {
    throw new Error('no physical memory');
  }
  readVirtMany(addrs: readonly bigint[], sizes: number | readonly number[], allowFail = false): (Buffer | null)[] {
    return addrs.map((a, i) => {
      try {
        return this.readVirt(a, typeof sizes === 'number' ? sizes : sizes[i]);
      } catch (e) {
        if (allowFail) return null;
        throw e;
      }
    });
  }
}

const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v & M64);
  return b;
};
const M64 = (1n << 64n) - 1n;

interface Msg {
  text: string;
  ts: bigint;
  level: number;
  caller: number;
  dev?: { subsystem: string; device: string };
}

const msg = (i: number, text = `message ${i} ${'x'.repeat(i % 7)}`): Msg => ({
  text,
  ts: BigInt(i) * 1_234_567_891n,
  level: i % 8,
  caller: i % 3 === 0 ? 0x80000000 + (i % 4) : 100 + i,
});

describe('v5.10+ lockless ring buffer, synthetic', () => {
  // The VMCOREINFO keys of the 6.1 fixtures (log_buf_vmcoreinfo_setup), ring sizes shrunk.
  const PRB = 0xffffffff81000000n; // the `prb` pointer variable
  const RB = 0xffffffff81000100n; // struct printk_ringbuffer
  const DESCS = 0xffffffff81100000n;
  const INFOS = 0xffffffff81200000n;
  const DATA = 0xffffffff81400000n;
  const vmcoreinfo = new VmcoreInfo(
    [
      `SYMBOL(prb)=${PRB.toString(16)}`,
      'SIZE(printk_ringbuffer)=88',
      'OFFSET(printk_ringbuffer.desc_ring)=0',
      'OFFSET(printk_ringbuffer.text_data_ring)=48',
      'OFFSET(printk_ringbuffer.fail)=80',
      'SIZE(prb_desc_ring)=48',
      'OFFSET(prb_desc_ring.count_bits)=0',
      'OFFSET(prb_desc_ring.descs)=8',
      'OFFSET(prb_desc_ring.infos)=16',
      'OFFSET(prb_desc_ring.head_id)=24',
      'OFFSET(prb_desc_ring.tail_id)=32',
      'SIZE(prb_desc)=24',
      'OFFSET(prb_desc.state_var)=0',
      'OFFSET(prb_desc.text_blk_lpos)=8',
      'SIZE(prb_data_blk_lpos)=16',
      'OFFSET(prb_data_blk_lpos.begin)=0',
      'OFFSET(prb_data_blk_lpos.next)=8',
      'SIZE(printk_info)=88',
      'OFFSET(printk_info.seq)=0',
      'OFFSET(printk_info.ts_nsec)=8',
      'OFFSET(printk_info.text_len)=16',
      'OFFSET(printk_info.caller_id)=20',
      'OFFSET(printk_info.dev_info)=24',
      'SIZE(dev_printk_info)=64',
      'OFFSET(dev_printk_info.subsystem)=0',
      'LENGTH(printk_info_subsystem)=16',
      'OFFSET(dev_printk_info.device)=16',
      'LENGTH(printk_info_device)=48',
      'SIZE(prb_data_ring)=32',
      'OFFSET(prb_data_ring.size_bits)=0',
      'OFFSET(prb_data_ring.data)=8',
      'OFFSET(prb_data_ring.head_lpos)=16',
      'OFFSET(prb_data_ring.tail_lpos)=24',
      'SIZE(atomic_long_t)=8',
      'OFFSET(atomic_long_t.counter)=0',
    ].join('\n'),
  );

  const ID_MASK = M64 >> 2n; // the top two bits of state_var are the state
  const SV = (id: bigint, state: bigint): bigint => (state << 62n) | (id & ID_MASK);
  const RESERVED = 0n, COMMITTED = 1n, FINALIZED = 2n, REUSABLE = 3n;
  const NO_LPOS = 3n;

  /**
   * Store messages the way kernel/printk/printk_ringbuffer.c does: ids from DESC0_ID + 1 and lpos
   * from BLK0_LPOS (both just below 2^64, so they overflow while we write), 8-byte aligned blocks
   * that begin with their id, a block that would cross the ring's end stored at offset 0, and the
   * oldest records made reusable when descriptors or text space run out.
   */
  function buildRing(countBits: number, sizeBits: number, msgs: Msg[], lastState = FINALIZED) {
    const count = 1 << countBits;
    const size = 1 << sizeBits;
    const descs = Buffer.alloc(count * 24);
    const infos = Buffer.alloc(count * 88);
    const data = Buffer.alloc(size);
    const wraps = (lpos: bigint): bigint => (lpos & M64) >> BigInt(sizeBits);
    const slot = (id: bigint): number => Number(id & BigInt(count - 1));
    let headId = -(BigInt(count) + 1n) & ID_MASK; // DESC0_ID
    let tailId = headId;
    let headLpos = -BigInt(size) & M64; // BLK0_LPOS
    descs.writeBigUInt64LE(SV(headId, REUSABLE), slot(headId) * 24);
    // records not yet made reusable, oldest first
    const live = new Map<bigint, { seq: number; m: Msg; begin: bigint }>();
    const makeReusable = (id: bigint): void => {
      descs.writeBigUInt64LE(SV(id, REUSABLE), slot(id) * 24);
      live.delete(id);
    };
    msgs.forEach((m, seq) => {
      const id = (headId + 1n) & ID_MASK;
      // desc_reserve(): reusing the tail's slot pushes the tail (which may already be reusable)
      if (((id - BigInt(count)) & ID_MASK) === tailId) {
        makeReusable(tailId);
        tailId = (tailId + 1n) & ID_MASK;
      }
      const text = Buffer.from(m.text);
      let begin = NO_LPOS;
      let next = NO_LPOS;
      if (text.length) {
        const bsize = BigInt((8 + text.length + 7) & ~7);
        begin = headLpos;
        next = (begin + bsize) & M64;
        if (wraps(begin) !== wraps(next)) next = ((next & ~BigInt(size - 1)) + bsize) & M64;
        // data_push_tail(): blocks older than next - size are overwritten, their descriptors
        // made reusable while the descriptor tail stays where it is
        for (const [oid, o] of live) {
          if (o.begin === NO_LPOS) continue;
          if (((next - o.begin) & M64) <= BigInt(size)) break;
          makeReusable(oid);
        }
        const off = wraps(begin) === wraps(next) ? Number(begin & BigInt(size - 1)) : 0;
        data.writeBigUInt64LE(id, Number(begin & BigInt(size - 1))); // a wrapping block has its id at begin too
        data.writeBigUInt64LE(id, off);
        text.copy(data, off + 8);
        headLpos = next;
      }
      const d = slot(id) * 24;
      descs.writeBigUInt64LE(SV(id, seq === msgs.length - 1 ? lastState : FINALIZED), d);
      descs.writeBigUInt64LE(begin, d + 8);
      descs.writeBigUInt64LE(next, d + 16);
      const i = slot(id) * 88;
      infos.fill(0, i, i + 88);
      infos.writeBigUInt64LE(BigInt(seq), i);
      infos.writeBigUInt64LE(m.ts, i + 8);
      infos.writeUInt16LE(text.length, i + 16);
      infos.writeUInt8(0, i + 18); // facility: kernel
      infos.writeUInt8((m.level << 5) | 0x02, i + 19); // level:3 over flags:5 (LOG_NEWLINE)
      infos.writeUInt32LE(m.caller, i + 20);
      if (m.dev) {
        infos.write(m.dev.subsystem, i + 24);
        infos.write(m.dev.device, i + 24 + 16);
      }
      live.set(id, { seq, m, begin });
      headId = id;
    });
    const expected = [...live.values()].filter((e) => e.seq !== msgs.length - 1 || lastState !== RESERVED);
    const rb = Buffer.alloc(88);
    rb.writeUInt32LE(countBits, 0);
    rb.writeBigUInt64LE(DESCS, 8);
    rb.writeBigUInt64LE(INFOS, 16);
    rb.writeBigUInt64LE(headId, 24);
    rb.writeBigUInt64LE(tailId, 32);
    rb.writeUInt32LE(sizeBits, 48);
    rb.writeBigUInt64LE(DATA, 56);
    rb.writeBigUInt64LE(headLpos, 64);
    const mem = new FakeMemory().map(PRB, u64(RB)).map(RB, rb).map(DESCS, descs).map(INFOS, infos).map(DATA, data);
    return { mem, expected, headId, tailId };
  }

  const asExpected = (e: { seq: number; m: Msg }): Partial<LogRecord> => ({
    seq: e.seq,
    tsNsec: e.m.ts,
    level: e.m.level,
    facility: 0,
    callerId: e.m.caller & 0x80000000 ? `C${e.m.caller & 0x7fffffff}` : `T${e.m.caller}`,
    text: e.m.text,
  });

  it('reads a ring whose ids, lpos and text blocks have wrapped', () => {
    // 16 descriptors from DESC0_ID + 1 = 2^62 - 16: message 16 takes id 0
    const msgs = Array.from({ length: 20 }, (_, i) => msg(i));
    msgs[13] = { ...msg(13), text: '' }; // a data-less record (NO_LPOS)
    msgs[15] = { ...msg(15), text: 'first line\nsecond line' };
    msgs[18] = { ...msg(18, 'usb 1-1: new device'), dev: { subsystem: 'usb', device: '+usb:1-1' } };
    const { mem, expected, headId, tailId } = buildRing(4, 8, msgs);
    expect(headId < tailId).toBe(true); // the walk from tail to head crosses the id wrap
    const recs = readKernelLog(mem, vmcoreinfo);
    expect(recs.length).toBeGreaterThan(4);
    expect(recs.length).toBeLessThan(16); // text space, not descriptors, limited what is left
    expect(recs.map((r) => ({ ...r, dict: undefined }))).toEqual(expected.map((e) => ({ ...asExpected(e), dict: undefined })));
    expect(recs.at(-1)!.seq).toBe(19);
    expect(recs.find((r) => r.seq === 13)?.text).toBe('');
    expect(recs.find((r) => r.seq === 18)?.dict).toEqual({ SUBSYSTEM: 'usb', DEVICE: '+usb:1-1' });
    expect(formatLogLine(recs.find((r) => r.seq === 15)!)).toBe('[   18.518518] first line\n[   18.518518] second line');
  });

  it('reads a ring after many laps, limited by descriptors', () => {
    const msgs = Array.from({ length: 200 }, (_, i) => msg(i, `m${i}`));
    const { mem, expected } = buildRing(3, 8, msgs) // 12 laps of a 256-byte text ring;
    const recs = readKernelLog(mem, vmcoreinfo);
    expect(recs.map((r) => r.seq)).toEqual([192, 193, 194, 195, 196, 197, 198, 199]); // all 8 descriptors in use
    expect(recs).toEqual(expected.map(asExpected));
  });

  it('reads the records around a text page missing from the dump', () => {
    const msgs = Array.from({ length: 300 }, (_, i) => msg(i, `record ${i} `.padEnd(40, '.')));
    const { mem, expected } = buildRing(10, 14, msgs); // 16 KiB of text: 4 pages, 300 records
    mem.hole(DATA + 4096n, 4096);
    const recs = readKernelLog(mem, vmcoreinfo);
    const lost = expected.filter((e) => !recs.some((r) => r.seq === e.seq));
    expect(lost.length).toBeGreaterThan(50);
    expect(lost.length).toBeLessThan(110); // one page of 56-byte blocks, and those straddling it
    expect(recs).toEqual(expected.filter((e) => !lost.includes(e)).map(asExpected));
  });

  it('includes a committed record and skips one still reserved', () => {
    const msgs = Array.from({ length: 5 }, (_, i) => msg(i));
    const committed = readKernelLog(buildRing(4, 10, msgs, COMMITTED).mem, vmcoreinfo);
    expect(committed.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    const reserved = readKernelLog(buildRing(4, 10, msgs, RESERVED).mem, vmcoreinfo);
    expect(reserved.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
  });

  it('rejects a text block whose id is not its descriptor', () => {
    const { mem } = buildRing(4, 10, Array.from({ length: 3 }, (_, i) => msg(i)));
    // overwrite record 1's block id, as if the data ring had moved past it
    const data = mem.regions.find((r) => r.addr === DATA)!.buf;
    const off = data.indexOf(Buffer.from('message 1')) - 8;
    data.writeBigUInt64LE(12345n, off);
    expect(readKernelLog(mem, vmcoreinfo).map((r) => r.seq)).toEqual([0, 2]);
  });

  it('takes layout overrides, and leaves level null when it cannot place it', () => {
    const { mem } = buildRing(4, 10, [msg(3)]);
    // caller_id not right after text_len: the u8 facility/level packing cannot be assumed
    const odd = new VmcoreInfo(vmcoreinfo.raw.replace('OFFSET(printk_info.caller_id)=20', 'OFFSET(printk_info.caller_id)=24'));
    const noLevel = readKernelLog(mem, odd, { prbLayout: { infoCallerId: 20 } });
    expect(noLevel[0].level).toBe(3);
    const unknown = readKernelLog(mem, odd, { prbLayout: { infoCallerId: 20, infoFacility: null, infoFlagsLevel: null } });
    expect(unknown[0].level).toBeNull();
    expect(unknown[0].callerId).toBe('C3');
  });
});

describe('pre-v5.10 log_buf, synthetic', () => {
  // struct printk_log on x86_64 with CONFIG_PRINTK_CALLER (v5.1..v5.9):
  // u64 ts_nsec; u16 len, text_len, dict_len; u8 facility; u8 flags:5, level:3; u32 caller_id;
  // records aligned to __alignof__(struct printk_log) = 8.
  const HDR = 24;
  const LOG_BUF = 0xffffffff82000000n; // `char *log_buf`
  const LOG_BUF_LEN = 0xffffffff82000010n; // u32
  const FIRST_IDX = 0xffffffff82000020n; // u32
  const NEXT_IDX = 0xffffffff82000030n; // u32
  const FIRST_SEQ = 0xffffffff82000040n; // u64, not in VMCOREINFO
  const BUF = 0xffffffff83000000n;
  const keys = (name: string): string =>
    [
      `SYMBOL(log_buf)=${LOG_BUF.toString(16)}`,
      `SYMBOL(log_buf_len)=${LOG_BUF_LEN.toString(16)}`,
      `SYMBOL(log_first_idx)=${FIRST_IDX.toString(16)}`,
      'SYMBOL(clear_idx)=ffffffff82000050',
      `SYMBOL(log_next_idx)=${NEXT_IDX.toString(16)}`,
      `SIZE(${name})=${HDR}`,
      `OFFSET(${name}.ts_nsec)=0`,
      `OFFSET(${name}.len)=8`,
      `OFFSET(${name}.text_len)=10`,
      `OFFSET(${name}.dict_len)=12`,
      `OFFSET(${name}.caller_id)=16`,
    ].join('\n');

  /** log_store() and log_make_free_space() of kernel/printk/printk.c (v4.x..v5.9) */
  function buildLogBuf(bufLen: number, msgs: (Msg & { dict?: string })[]) {
    const buf = Buffer.alloc(bufLen);
    let firstIdx = 0, nextIdx = 0, firstSeq = 0, nextSeq = 0;
    const lenAt = (idx: number): number => buf.readUInt16LE(idx + 8);
    const logNext = (idx: number): number => (lenAt(idx) === 0 ? lenAt(0) : idx + lenAt(idx));
    const hasSpace = (size: number, empty: boolean): boolean => {
      const free = nextIdx > firstIdx || empty ? Math.max(bufLen - nextIdx, firstIdx) : firstIdx - nextIdx;
      return free >= size + HDR; // room for the wrap header too
    };
    for (const m of msgs) {
      const text = Buffer.from(m.text);
      const dict = Buffer.from(m.dict ?? '');
      const size = (HDR + text.length + dict.length + 7) & ~7;
      while (firstSeq < nextSeq && !hasSpace(size, false)) {
        firstIdx = logNext(firstIdx);
        firstSeq++;
      }
      if (!hasSpace(size, firstSeq === nextSeq)) throw new Error('message too big for the test buffer');
      if (nextIdx + size + HDR > bufLen) {
        buf.fill(0, nextIdx, nextIdx + HDR); // the wrap marker
        nextIdx = 0;
      }
      buf.fill(0, nextIdx, nextIdx + size);
      buf.writeBigUInt64LE(m.ts, nextIdx);
      buf.writeUInt16LE(size, nextIdx + 8);
      buf.writeUInt16LE(text.length, nextIdx + 10);
      buf.writeUInt16LE(dict.length, nextIdx + 12);
      buf.writeUInt8(0, nextIdx + 14);
      buf.writeUInt8(m.level << 5, nextIdx + 15);
      buf.writeUInt32LE(m.caller, nextIdx + 16);
      text.copy(buf, nextIdx + HDR);
      dict.copy(buf, nextIdx + HDR + text.length);
      nextIdx += size;
      nextSeq++;
    }
    const u32 = (v: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(v);
      return b;
    };
    const mem = new FakeMemory()
      .map(LOG_BUF, u64(BUF))
      .map(LOG_BUF_LEN, u32(bufLen))
      .map(FIRST_IDX, u32(firstIdx))
      .map(NEXT_IDX, u32(nextIdx))
      .map(FIRST_SEQ, u64(BigInt(firstSeq)))
      .map(BUF, buf);
    return { mem, firstSeq, nextSeq, firstIdx, nextIdx };
  }

  it('decodes a wrapped buffer oldest first, with dictionaries', () => {
    const msgs = Array.from({ length: 40 }, (_, i) => ({ ...msg(i), dict: i === 38 ? 'SUBSYSTEM=pci\0DEVICE=+pci:0000:00:02.0' : undefined }));
    const { mem, firstSeq, firstIdx, nextIdx } = buildLogBuf(1024, msgs);
    expect(firstSeq).toBeGreaterThan(10); // old records were dropped
    expect(nextIdx).toBeLessThan(firstIdx); // and the writer has wrapped
    const symbol = (n: string): bigint | undefined => (n === 'log_first_seq' ? FIRST_SEQ : undefined);
    const recs = readKernelLog(mem, new VmcoreInfo(keys('printk_log')), { symbol });
    const want = msgs.slice(firstSeq).map((m, k) => ({
      seq: firstSeq + k,
      tsNsec: m.ts,
      level: m.level,
      facility: 0,
      callerId: m.caller & 0x80000000 ? `C${m.caller & 0x7fffffff}` : `T${m.caller}`,
      text: m.text,
      ...(m.dict ? { dict: { SUBSYSTEM: 'pci', DEVICE: '+pci:0000:00:02.0' } } : {}),
    }));
    expect(recs).toEqual(want);
    // without log_first_seq the records are numbered from 0
    expect(readKernelLog(mem, new VmcoreInfo(keys('printk_log')))[0].seq).toBe(0);
  });

  it('reads v3.5..v3.10 `struct log` keys and an empty buffer', () => {
    const { mem } = buildLogBuf(512, [msg(1), msg(2)]);
    expect(readKernelLog(mem, new VmcoreInfo(keys('log'))).map((r) => r.text)).toEqual([msg(1).text, msg(2).text]);
    const empty = buildLogBuf(512, []);
    expect(readKernelLog(empty.mem, new VmcoreInfo(keys('printk_log')))).toEqual([]);
  });

  it('a record without CONFIG_PRINTK_CALLER has no caller id', () => {
    const { mem } = buildLogBuf(512, [msg(1)]);
    const info = new VmcoreInfo(keys('printk_log').replace(/\nOFFSET\(printk_log\.caller_id\)=16/, ''));
    const [r] = readKernelLog(mem, info);
    expect(r.callerId).toBeNull();
    expect(r.level).toBe(1);
  });
});

describe('formatting', () => {
  const rec: LogRecord = { seq: 0, tsNsec: 2_849_511_999n, level: 6, facility: 0, callerId: 'T1', text: 'a\nb' };
  it('prints timestamps as printk does, and continuation lines in each style', () => {
    expect(formatLogLine({ ...rec, text: 'x' })).toBe('[    2.849511] x');
    expect(formatLogLine({ ...rec, tsNsec: 123456_000_001_000n, text: 'x' })).toBe('[123456.000001] x');
    expect(formatLog([rec], { continuation: 'crash' })).toEqual(['[    2.849511] a', '               b']);
    expect(formatLog([rec], { continuation: 'drgn' })).toEqual(['[    2.849511] a', 'b']);
    expect(formatLog([rec], { noTime: true })).toEqual(['a', 'b']);
  });
  it('prints wall-clock time like crash `log -T`', () => {
    expect(formatWallClock(1585986069)).toBe('Sat Apr  4 07:41:09 2020');
    const boot = bootTimeFromCrash(1795297260, 14_880_335_281n);
    expect(boot).toBe(1795297246);
    expect(formatLogLine({ ...rec, text: 'x' }, { humanTime: { bootTime: boot } })).toBe('[Sat Nov 21 21:40:48 2026] x');
  });
});
