/**
 * Hostile inputs made from the real fixtures, into a temporary directory: never committed, never
 * written to the fixtures. Each maker copies a fixture and damages one thing a hostile or broken
 * machine could have written.
 */
import { closeSync, copyFileSync, chmodSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir } from '../fixtures.js';
import type { Dump } from '../../src/dump/dump.js';
import { Vmcore } from '../../src/vmcore.js';
import { OverlayDump } from '../../fuzz/overlay.js';

export function fixturePath(rel: string): string { return join(fixturesDir, rel); }

/**
 * The open dump `d` seen with the 8-byte kernel word at `addr` reading `value` (a pointer made to
 * loop or go wild), the file untouched; types from the dump's own BTF.
 */
export function withWord(d: Dump, addr: bigint, value: bigint): Vmcore {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(value);
  return new Vmcore(new OverlayDump(d, [{ addr, bytes }]).asDump(), { vmlinux: false });
}

/** a temporary directory for one test file's inputs, and its clean-up */
export function scratch(prefix = 'vaat-hostile-'): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return { dir, path: (n) => join(dir, n), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** a private, writable copy of a fixture */
export function copyFixture(rel: string, to: string): string {
  copyFileSync(fixturePath(rel), to);
  chmodSync(to, 0o644);
  return to;
}

/** bytes [offset, offset+len) of a file */
export function readAt(file: string, offset: number, len: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(len);
    const n = readSync(fd, b, 0, len, offset);
    return b.subarray(0, n);
  } finally { closeSync(fd); }
}

export function writeAt(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try { writeSync(fd, bytes, 0, bytes.length, offset); } finally { closeSync(fd); }
}

/**
 * Replace the first `find` in the file's first `window` bytes with `replace` (same length): the
 * VMCOREINFO note of kdump-compressed and ELF files is stored as plain text near the start.
 */
export function patchText(file: string, find: string, replace: string, window = 4 << 20): number {
  if (find.length !== replace.length) throw new Error('patchText: same length only');
  const head = readAt(file, 0, window);
  const at = head.indexOf(find, 0, 'latin1');
  if (at < 0) throw new Error(`patchText: '${find}' not in the first ${window} bytes of ${file}`);
  writeAt(file, at, Buffer.from(replace, 'latin1'));
  return at;
}

/** the softlockup fixture unwrapped from lzop: a plain ELF dump whose pages are stored raw */
export function plainElf(to: string): string {
  if (!existsSync(to)) execFileSync('lzop', ['-d', '-f', '-o', to, fixturePath('softlockup/vmcore.elf-d31.lzo')]);
  return to;
}

/** file offset of a physical address in a plain ELF dump (from its PT_LOAD headers), or null */
export function elfFileOffset(file: string, phys: bigint): number | null {
  const eh = readAt(file, 0, 64);
  const phoff = Number(eh.readBigUInt64LE(32)), phentsize = eh.readUInt16LE(54), phnum = eh.readUInt16LE(56);
  const ph = readAt(file, phoff, phentsize * phnum);
  for (let i = 0; i < phnum; i++) {
    const p = ph.subarray(i * phentsize);
    if (p.readUInt32LE(0) !== 1) continue; // PT_LOAD
    const off = p.readBigUInt64LE(8), paddr = p.readBigUInt64LE(24), filesz = p.readBigUInt64LE(32);
    if (phys >= paddr && phys < paddr + filesz) return Number(off + phys - paddr);
  }
  return null;
}

export interface HostileStrings {
  file: string;
  /** the task whose comm now holds an OSC terminal-title sequence, and the comm it had */
  osc: { pid: number; comm: string; was: string };
  /** the task whose comm now holds a TAB (legal for prctl(PR_SET_NAME)) */
  tab: { pid: number; comm: string; was: string };
  /** init_uts_ns's node name, now with a clear-screen sequence */
  nodename: string;
  /** a kernel log line whose text now holds an escape */
  logText: string;
}

/**
 * The plain ELF dump with strings a hostile user could have planted: an OSC title sequence in the
 * comm of CPU 0's current task, a TAB in another task's comm, a clear-screen in the node name and
 * in a log line. Places are found with the library on the intact file (no offsets hard-coded).
 */
export async function hostileStringsElf(dir: string): Promise<HostileStrings> {
  const { openVmcore, runqueues, listTasks, readKernelLog } = await import('../../src/index.js');
  const src = plainElf(join(dir, 'softlockup.elf'));
  const file = join(dir, 'hostile-strings.elf');
  copyFileSync(src, file);
  const vm = openVmcore(src, { vmlinux: false });
  const plant = (virt: bigint, bytes: Buffer): void => {
    const off = elfFileOffset(file, vm.dump.virtToPhys(virt));
    if (off === null) throw new Error(`0x${virt.toString(16)} is not stored in ${src}`);
    writeAt(file, off, bytes);
  };
  const commOff = BigInt(vm.types.offsetof('struct task_struct', 'comm'));
  const curr0 = runqueues(vm)[0].curr;
  const cpu0 = { pid: curr0.pid, comm: curr0.comm, address: BigInt(curr0.task) };
  const other = listTasks(vm).find((t) => t.pid > 1 && t.pid !== cpu0.pid && t.state === 'S' && t.comm.length >= 3)!;
  const osc = '\x1b]0;PWNED\x07x';
  const tab = other.comm.slice(0, 2) + '\t' + other.comm.slice(3);
  plant(cpu0.address + commOff, Buffer.from(osc + '\0', 'latin1'));
  plant(other.address + commOff, Buffer.from(tab + '\0', 'latin1'));
  const nodename = '\x1b[2Jnode';
  plant(vm.address('init_uts_ns') + BigInt(vm.types.offsetof('struct uts_namespace', 'name.nodename')), Buffer.from(nodename + '\0', 'latin1'));
  // a log line: its text is stored once in the text ring; overwrite its first bytes in place
  const rec = readKernelLog(vm.dump, vm.vmcoreinfo).find((r) => r.text.length > 20 && /^[\x20-\x7e]+$/.test(r.text))!;
  const logText = '\x1b[8m' + rec.text.slice(4);
  const all = readAt(file, 0, statSync(file).size);
  const needle = Buffer.from(rec.text, 'latin1');
  let planted = 0;
  for (let at = all.indexOf(needle); at >= 0; at = all.indexOf(needle, at + 1), planted++) writeAt(file, at, Buffer.from(logText, 'latin1'));
  if (!planted) throw new Error('log text not found in the file');
  vm.close();
  return { file, osc: { pid: cpu0.pid, comm: osc, was: cpu0.comm }, tab: { pid: other.pid, comm: tab, was: other.comm }, nodename, logText };
}

/** a kdump-compressed copy whose header utsname.nodename (disk_dump_header: 8 + 4 + 65) holds an OSC title sequence */
export function hostileNodenameKdump(dir: string): { file: string; nodename: string } {
  const file = copyFixture('sysrq-basic/vmcore.kdump-lzo', join(dir, 'hostile-nodename.kdump'));
  const nodename = '\x1b]0;PWNED\x07host';
  writeAt(file, 8 + 4 + 65, Buffer.from(nodename + '\0', 'latin1'));
  return { file, nodename };
}

/** the first 64 KiB of a kdump file whose header says 2^34 pages (max_mapnr_64, bitmap_blocks to match) */
export function hugeMapnrKdump(dir: string): string {
  const b = readAt(fixturePath('sysrq-basic/vmcore.kdump-lzo'), 0, 64 << 10);
  const bs = b.readInt32LE(428); // disk_dump_header.block_size
  // kdump_sub_header (block 1): max_mapnr_64 follows 12 u64/u32 fields (phys_base ... end_pfn_64)
  b.writeBigUInt64LE(1n << 34n, bs + 8 + 4 + 4 + 8 * 10);
  b.writeUInt32LE(Number((1n << 34n) / 8n * 2n / BigInt(bs)), 436); // bitmap_blocks
  const f = join(dir, 'huge-mapnr.kdump');
  writeFileSync(f, b);
  return f;
}

/** the first 64 KiB of the plain ELF with e_phnum = PN_XNUM and section 0 claiming 2^24-1 program headers */
export function hugePhnumElf(dir: string): string {
  const b = readAt(plainElf(join(dir, 'softlockup.elf')), 0, 64 << 10);
  b.writeUInt16LE(0xffff, 56); // e_phnum = PN_XNUM
  b.writeBigUInt64LE(4096n, 40); // e_shoff
  b.fill(0, 4096, 4096 + 64);
  b.writeUInt32LE((1 << 24) - 1, 4096 + 44); // sh_info of section 0: the real count
  const f = join(dir, 'huge-phnum.elf');
  writeFileSync(f, b);
  return f;
}
