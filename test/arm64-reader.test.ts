/**
 * The native reader on the arm64 fixtures: architecture and kernel page size from the dump (not
 * QEMU's 64 KiB block size), the arm64 prstatus registers, and kernel virtual addresses through
 * the arm64 page tables — checked against drgn's truth, against libkdumpfile where it can read
 * the file, and against the linear map's and the kernel image's fixed offsets.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, type NativeDumpFile } from '../src/dump/native.js';
import { fixturesDir, truth } from './fixtures.js';

const native = loadNative();
const KERNEL = path.join(fixturesDir, 'kernel-6.1.0-54-cloud-arm64');
const layouts = JSON.parse(readFileSync(path.join(KERNEL, 'layouts.json'), 'utf8'));
const TASK_PID = layouts.types['struct task_struct'].requested.pid.offset as number;
const TASK_COMM = layouts.types['struct task_struct'].requested.comm.offset as number;
const BUILD_ID = readFileSync(path.join(KERNEL, 'vmlinux.build-id'), 'utf8').trim();

interface Case { dir: string; file: string; codec: string; blockSize: number; qemu: boolean }
const CASES: Case[] = [
  { dir: 'arm64-sysrq', file: 'vmcore.kdump-lzo', codec: 'lzo', blockSize: 4096, qemu: false },
  { dir: 'arm64-cgroup-mutex-hung', file: 'vmcore.kdump-zlib', codec: 'zlib', blockSize: 4096, qemu: false },
  // QEMU's dump-guest-memory writes 64 KiB blocks on arm64, whatever the kernel's page size.
  { dir: 'arm64-oops-qemu', file: 'vmcore.qemu-kdump-zlib', codec: 'zlib', blockSize: 65536, qemu: true },
];

const vmci = (text: string, key: string) => new RegExp(`^${key.replace(/[()]/g, '\\$&')}=(.*)$`, 'm').exec(text)?.[1];

/** release string of init_uts_ns (struct new_utsname: sysname "Linux", release is field 3) */
function utsRelease(d: NativeDumpFile): string {
  const addr = BigInt('0x' + vmci(d.attrs().vmcoreinfo, 'SYMBOL(init_uts_ns)'));
  const buf = d.readVirt(addr, 512);
  const at = buf.indexOf('Linux\0');
  expect(at).toBeGreaterThanOrEqual(0);
  const rel = buf.subarray(at + 65 * 2, at + 65 * 3);
  return rel.subarray(0, rel.indexOf(0)).toString('latin1');
}

describe.each(CASES)('$dir/$file', (c) => {
  const t = truth(c.dir);
  const file = path.join(fixturesDir, c.dir, c.file);
  let v: NativeDumpFile;
  beforeAll(() => { v = new native.DumpFile(file); });
  afterAll(() => v?.close());

  it('is aarch64 with the kernel page size from VMCOREINFO, not the block size', () => {
    const a = v.attrs();
    expect(a.arch).toBe('aarch64');
    expect(a.codec).toBe(c.codec);
    expect(a.pageSize).toBe(Number(vmci(a.vmcoreinfo, 'PAGESIZE')));
    expect(a.blockSize).toBe(c.blockSize);
    expect(vmci(a.vmcoreinfo, 'BUILD-ID')).toBe(BUILD_ID);
    expect(vmci(a.vmcoreinfo, 'OSRELEASE')).toBe(t.uname.release);
    expect(a.nrCpus).toBe(t.cpus.nr_cpu_ids);
    // page counts are in kernel pages: QEMU's 64 KiB blocks hold 16 each
    expect(a.pagesPresent! * a.pageSize).toBeLessThanOrEqual(a.maxPfn * a.pageSize);
    if (c.qemu) expect(a.pagesPresent! * a.pageSize).toBe(512 * 1024 * 1024);
  });

  it('has one arm64 PRSTATUS per CPU (x0..x30, sp, pc, pstate) with kernel sp and pc', () => {
    const regs = v.cpuRegs();
    expect(regs.map((r) => r.cpu)).toEqual(t.cpus.possible);
    for (const r of regs) expect(Object.keys(r.regs)).toEqual([...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'pstate']);
    const p = regs[t.panic_task.cpu];
    if (!c.qemu) expect(p.pid).toBe(t.panic_task.tid);
    expect(p.regs.sp >> 48n).toBe(0xffffn);
    expect(p.regs.pc >> 48n).toBe(0xffffn);
  });

  it('reads init_uts_ns and every task_struct of the truth by virtual address', () => {
    expect(utsRelease(v)).toBe(t.uname.release);
    const tasks = t.tasks as { pid: number; comm: string; task_struct: string }[];
    expect(tasks.length).toBeGreaterThan(50);
    const addrs = BigUint64Array.from(tasks, (x) => BigInt(x.task_struct));
    const { data, status } = v.readBatch('virt', addrs, new Uint32Array(tasks.length).fill(4096));
    expect([...status].every((s) => s === 0)).toBe(true);
    expect(tasks.map((_, i) => data.readInt32LE(i * 4096 + TASK_PID))).toEqual(tasks.map((x) => x.pid));
    const comm = (i: number) => { const b = data.subarray(i * 4096 + TASK_COMM, i * 4096 + TASK_COMM + 16); return b.subarray(0, b.indexOf(0)).toString('latin1'); };
    expect(tasks.map((_, i) => comm(i))).toEqual(tasks.map((x) => x.comm));
  });

  it('the page-table walk agrees with the linear map and the kernel image offsets', () => {
    const a = v.attrs();
    const vaBits = BigInt(vmci(a.vmcoreinfo, 'NUMBER(VA_BITS)')!);
    const physOffset = BigInt(vmci(a.vmcoreinfo, 'NUMBER(PHYS_OFFSET)')!);
    const kimageVoffset = BigInt(vmci(a.vmcoreinfo, 'NUMBER(kimage_voffset)')!);
    const pageOffset = (1n << 64n) - (1n << vaBits); // PAGE_OFFSET since v5.4's VA flip
    // task_structs live in the linear map: phys = (va - PAGE_OFFSET) + PHYS_OFFSET
    for (const x of (t.tasks as { task_struct: string }[]).slice(0, 40)) {
      const va = BigInt(x.task_struct);
      expect(va >= pageOffset).toBe(true);
      expect(v.virtToPhys(va)).toBe(va - pageOffset + physOffset);
    }
    // kernel image symbols: phys = va - kimage_voffset
    for (const sym of ['init_uts_ns', '_stext', 'swapper_pg_dir', 'prb']) {
      const va = BigInt('0x' + vmci(a.vmcoreinfo, `SYMBOL(${sym})`));
      expect(v.virtToPhys(va)).toBe(va - kimageVoffset);
    }
    // a user (TTBR0) address and a kernel address past the VA size are not mapped
    for (const va of [0x400000n, 0x0000ffff00000000n, 0xfff0000000000000n - 0x1000n]) {
      expect(() => v.virtToPhys(va)).toThrow(expect.objectContaining({ code: 'NOT_MAPPED' }));
    }
  });

  if (!c.qemu) it('libkdumpfile reads the same kernel virtual memory', () => {
    const k = new native.DumpFile(file, { backend: 'libkdumpfile' });
    try {
      expect(k.attrs().backend).toBe('libkdumpfile');
      expect(utsRelease(k)).toBe(t.uname.release);
      const addrs = BigUint64Array.from((t.tasks as { task_struct: string }[]).slice(0, 30), (x) => BigInt(x.task_struct));
      const sizes = new Uint32Array(addrs.length).fill(2048);
      const a = k.readBatch('virt', addrs, sizes);
      const b = v.readBatch('virt', addrs, sizes);
      expect([...a.status]).toEqual([...b.status]);
      expect(Buffer.compare(a.data, b.data)).toBe(0);
    } finally {
      k.close();
    }
  });
});
