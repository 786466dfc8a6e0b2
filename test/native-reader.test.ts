/**
 * The native dump reader (build/Release/vaat_native.node) against the real fixtures: formats,
 * attrs vs drgn's truth, both back ends byte for byte, containers, and every fault path on
 * truncated / corrupted tmp copies. Fixtures are read-only; damaged copies go to os.tmpdir().
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, type NativeDumpFile } from '../src/dump/native.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIX = process.env.VAAT_FIXTURES ?? path.resolve(projectRoot, '../shared/fixtures');
if (!existsSync(path.join(FIX, 'README.md'))) throw new Error(`fixtures not found at ${FIX} (set VAAT_FIXTURES)`);

const native = loadNative();
const PAGE = 4096;

interface Case { file: string; dir: string; format: string; container: string | null; codec: string; plain: boolean; autoBackend: string }
const CASES: Case[] = [
  { dir: 'sysrq-basic', file: 'vmcore.kdump-lzo', format: 'kdump-compressed', container: null, codec: 'lzo', plain: true, autoBackend: 'vaat' },
  { dir: 'sysrq-basic', file: 'vmcore.kdump-zlib', format: 'kdump-compressed', container: null, codec: 'zlib', plain: true, autoBackend: 'vaat' },
  { dir: 'cgroup-mutex-hung', file: 'vmcore.kdump-zstd', format: 'kdump-compressed', container: null, codec: 'zstd', plain: true, autoBackend: 'vaat' },
  { dir: 'oops-null-a', file: 'vmcore.kdump-snappy', format: 'kdump-compressed', container: null, codec: 'snappy', plain: true, autoBackend: 'vaat' },
  { dir: 'oops-null-b', file: 'vmcore.flat-lzo', format: 'kdump-compressed', container: 'flattened', codec: 'lzo', plain: false, autoBackend: 'vaat' },
  { dir: 'softlockup', file: 'vmcore.elf-d31.lzo', format: 'elf', container: 'lzop', codec: 'none', plain: false, autoBackend: 'vaat' },
  { dir: 'qemu-dump', file: 'vmcore.qemu-kdump-zlib', format: 'kdump-compressed (qemu)', container: null, codec: 'zlib', plain: true, autoBackend: 'vaat' },
];
const fixture = (c: Case) => path.join(FIX, c.dir, c.file);

// Truth: the QEMU scenario's primary truth.json failed (drgn 0.0.22); its drgn 0.0.33 file has the facts.
function truthOf(dir: string) {
  const primary = JSON.parse(readFileSync(path.join(FIX, dir, 'truth/truth.json'), 'utf8'));
  if (primary.tasks) return primary;
  return { ...JSON.parse(readFileSync(path.join(FIX, dir, 'truth/truth-drgn-0.0.33+unknown.json'), 'utf8')), vmcoreinfo: primary.vmcoreinfo };
}
const layouts = JSON.parse(readFileSync(path.join(FIX, 'kernel-6.1.0-54-cloud-amd64/layouts.json'), 'utf8'));
const TASK_PID = layouts.types['struct task_struct'].requested.pid.offset as number;
const BUILD_ID = readFileSync(path.join(FIX, 'kernel-6.1.0-54-cloud-amd64/vmlinux.build-id'), 'utf8').trim();

const vmci = (text: string, key: string) => new RegExp(`^${key.replace(/[()]/g, '\\$&')}=(.*)$`, 'm').exec(text)?.[1];
const errCode = (fn: () => unknown): string | undefined => {
  try { fn(); } catch (e) { return (e as { code?: string }).code; }
  return undefined;
};
function thrown(fn: () => unknown): Error & { code?: string; address?: bigint } {
  try { fn(); } catch (e) { return e as Error & { code?: string; address?: bigint }; }
  throw new Error('expected a throw');
}

/** Page-aligned addresses of every `step`-th pfn below maxPfn, as readBatch arguments. */
function pfnBatch(maxPfn: number, step: number, offset = 0) {
  const pfns: number[] = [];
  for (let p = offset; p < maxPfn; p += step) pfns.push(p);
  return { pfns, addrs: BigUint64Array.from(pfns, (p) => BigInt(p) * BigInt(PAGE)), sizes: new Uint32Array(pfns.length).fill(PAGE) };
}
const pageOf = (data: Buffer, i: number) => data.subarray(i * PAGE, (i + 1) * PAGE);

/** release string of init_uts_ns: struct new_utsname starts at "Linux\0" (sysname), release is field 3. */
function utsRelease(d: NativeDumpFile, vmcoreinfo: string): string {
  const addr = BigInt('0x' + vmci(vmcoreinfo, 'SYMBOL(init_uts_ns)'));
  const buf = d.readVirt(addr, 512);
  const at = buf.indexOf('Linux\0');
  expect(at).toBeGreaterThanOrEqual(0);
  const rel = buf.subarray(at + 65 * 2, at + 65 * 3);
  return rel.subarray(0, rel.indexOf(0)).toString('latin1');
}

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(path.join(tmpdir(), 'vaat-native-')); });
afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

describe('module', () => {
  it('reports library versions', () => {
    expect(native.versions.libkdumpfile).toBe('0.5.1');
    for (const k of ['lzo', 'zstd', 'zlib', 'snappy'] as const) expect(native.versions[k]).toMatch(/^\d+\.\d+/);
  });
});

describe.each(CASES)('$dir/$file', (c) => {
  const truth = truthOf(c.dir);
  let d: NativeDumpFile;
  let v: NativeDumpFile;
  beforeAll(() => {
    d = new native.DumpFile(fixture(c));
    v = new native.DumpFile(fixture(c), { backend: 'vaat' });
  });
  afterAll(() => { d?.close(); v?.close(); });

  it('opens with the right format, container, codec and back end', () => {
    const a = d.attrs();
    expect([a.format, a.container, a.codec, a.backend]).toEqual([c.format, c.container, c.codec, c.autoBackend]);
    expect(v.attrs().backend).toBe('vaat');
    expect(native.detectFormat(fixture(c))).toBe(c.container ? `${c.container}+${c.format}` : c.format);
    expect(a.truncated).toBe(false);
    expect(a.arch).toBe('x86_64');
    expect(a.pageSize).toBe(PAGE);
    expect(a.fileSize).toBe(readFileSync(fixture(c)).length);
  });

  it('attrs agree with the truth', () => {
    const a = d.attrs();
    expect(vmci(a.vmcoreinfo, 'OSRELEASE')).toBe(truth.uname.release);
    expect(vmci(a.vmcoreinfo, 'BUILD-ID')).toBe(BUILD_ID);
    expect(vmci(a.vmcoreinfo, 'KERNELOFFSET')).toBe(truth.vmcoreinfo.KERNELOFFSET);
    // QEMU dumped a paused guest: no kdump ran, so VMCOREINFO has no CRASHTIME.
    expect(vmci(a.vmcoreinfo, 'CRASHTIME')).toBe(truth.crash_time ? String(truth.crash_time.unix) : undefined);
    expect(a.nrCpus).toBe(truth.cpus.nr_cpu_ids);
    if (c.format === 'elf') expect(a.dumpLevel).toBeNull();
    else expect(a.dumpLevel).toBe(c.dir === 'qemu-dump' ? 1 : 31);
    // utsname is in the kdump header only; QEMU leaves it empty.
    if (c.format === 'kdump-compressed') expect(a.uts).toEqual(truth.uname);
    else expect(a.uts).toBeNull();
    expect(a.pagesPresent! > 10000).toBe(true);
    if (c.dir !== 'qemu-dump') expect(a.pagesExcluded! > 50000).toBe(true); // -d 31 drops most of RAM
    expect(a.maxPfn * PAGE).toBeGreaterThanOrEqual(a.pagesPresent! * PAGE);
  });

  it('has one PRSTATUS per CPU with the crashing task on the panic CPU', () => {
    const regs = d.cpuRegs();
    expect(regs.length).toBe(truth.cpus.nr_cpu_ids);
    expect(regs.map((r) => r.cpu)).toEqual([0, 1, 2, 3]);
    for (const r of regs) expect(Object.keys(r.regs)).toHaveLength(27);
    if (c.dir !== 'qemu-dump') expect(regs[truth.panic_task.cpu].pid).toBe(truth.panic_task.tid);
    // The kernel stack pointer of the panic CPU is a kernel address.
    expect(regs[truth.panic_task.cpu].regs.rsp >> 47n).toBe(0x1ffffn);
  });

  it('reads the init_uts_ns release by virtual address on every back end', () => {
    expect(utsRelease(d, d.attrs().vmcoreinfo)).toBe(truth.uname.release);
    expect(utsRelease(v, v.attrs().vmcoreinfo)).toBe(truth.uname.release);
  });

  it('reads every task_struct of the truth: the pid field matches', () => {
    const tasks = truth.tasks as { pid: number; task_struct: string }[];
    expect(tasks.length).toBeGreaterThan(50);
    const addrs = BigUint64Array.from(tasks, (t) => BigInt(t.task_struct));
    for (const r of [d, v]) {
      const { data, status } = r.readBatch('virt', addrs, new Uint32Array(tasks.length).fill(4096));
      expect([...status].every((s) => s === 0)).toBe(true);
      expect(tasks.map((_, i) => data.readInt32LE(i * 4096 + TASK_PID))).toEqual(tasks.map((t) => t.pid));
    }
    if (c.plain) {
      const a = d.readBatch('virt', addrs, new Uint32Array(tasks.length).fill(4096));
      const b = v.readBatch('virt', addrs, new Uint32Array(tasks.length).fill(4096));
      expect(Buffer.compare(a.data, b.data)).toBe(0);
      for (const t of tasks.slice(0, 20)) expect(d.virtToPhys(BigInt(t.task_struct))).toBe(v.virtToPhys(BigInt(t.task_struct)));
    }
  });

  if (c.plain) it('libkdumpfile and vaat return identical pages', () => {
    const { addrs, sizes } = pfnBatch(Math.min(d.attrs().maxPfn, 140000), 7);
    const a = d.readBatch('phys', addrs, sizes);
    const b = v.readBatch('phys', addrs, sizes);
    expect(Buffer.from(a.status).equals(Buffer.from(b.status))).toBe(true);
    const present = [...a.status].filter((s) => s === 0).length;
    expect(present).toBeGreaterThan(2000);
    expect(Buffer.compare(a.data, b.data)).toBe(0);
  });

  it('an excluded page throws EXCLUDED_PAGE with its address, or reads zeros', () => {
    const { pfns, addrs, sizes } = pfnBatch(v.attrs().maxPfn, 101);
    const st = v.readBatch('phys', addrs, sizes).status;
    const i = st.indexOf(1);
    if (c.dir === 'qemu-dump') { expect(i).toBe(-1); return; } // QEMU excludes nothing
    expect(i).toBeGreaterThanOrEqual(0);
    const addr = BigInt(pfns[i]) * BigInt(PAGE) + 24n;
    for (const r of [d, v]) {
      const e = thrown(() => r.readPhys(addr, 16));
      expect(e.code).toBe('EXCLUDED_PAGE');
      expect(e.address).toBe(addr);
      expect(r.readPhys(addr, 16, true).equals(Buffer.alloc(16))).toBe(true);
    }
  });
});

describe('container equivalence', () => {
  it('sysrq-basic lzo and zlib pages are identical', () => {
    const lzo = new native.DumpFile(path.join(FIX, 'sysrq-basic/vmcore.kdump-lzo'), { backend: 'vaat' });
    const zlib = new native.DumpFile(path.join(FIX, 'sysrq-basic/vmcore.kdump-zlib'), { backend: 'vaat' });
    const { addrs, sizes } = pfnBatch(lzo.attrs().maxPfn, 5);
    const a = lzo.readBatch('phys', addrs, sizes);
    const b = zlib.readBatch('phys', addrs, sizes);
    expect([...a.status].filter((s) => s === 0).length).toBeGreaterThan(3000);
    expect(Buffer.from(a.status).equals(Buffer.from(b.status))).toBe(true);
    expect(Buffer.compare(a.data, b.data)).toBe(0);
  });

  it('flattened file reads the same as its reassembly (makedumpfile -R) read by libkdumpfile', () => {
    const out = path.join(tmp, 'reassembled.kdump');
    execFileSync('sh', ['-c', `makedumpfile -R "${out}" < "${path.join(FIX, 'oops-null-b/vmcore.flat-lzo')}"`], { stdio: 'ignore' });
    const flat = new native.DumpFile(path.join(FIX, 'oops-null-b/vmcore.flat-lzo'));
    const plain = new native.DumpFile(out, { backend: 'libkdumpfile' });
    expect(plain.attrs().backend).toBe('libkdumpfile');
    const { addrs, sizes } = pfnBatch(flat.attrs().maxPfn, 5);
    const a = flat.readBatch('phys', addrs, sizes);
    const b = plain.readBatch('phys', addrs, sizes);
    expect([...a.status].filter((s) => s === 0).length).toBeGreaterThan(3000);
    expect(Buffer.from(a.status).equals(Buffer.from(b.status))).toBe(true);
    expect(Buffer.compare(a.data, b.data)).toBe(0);
    rmSync(out);
  });

  it('lzop-wrapped ELF reads the same as the unwrapped ELF read by libkdumpfile; memsz beyond filesz is EXCLUDED', () => {
    const out = path.join(tmp, 'vmcore.elf');
    execFileSync('lzop', ['-d', '-f', '-o', out, path.join(FIX, 'softlockup/vmcore.elf-d31.lzo')]);
    const wrapped = new native.DumpFile(path.join(FIX, 'softlockup/vmcore.elf-d31.lzo'));
    const elf = new native.DumpFile(out, { backend: 'libkdumpfile' });
    expect([elf.attrs().backend, elf.attrs().format, elf.attrs().container]).toEqual(['libkdumpfile', 'elf', null]);
    const { addrs, sizes } = pfnBatch(wrapped.attrs().maxPfn, 3);
    const a = wrapped.readBatch('phys', addrs, sizes);
    const b = elf.readBatch('phys', addrs, sizes);
    expect([...a.status].filter((s) => s === 0).length).toBeGreaterThan(5000);
    expect([...a.status].filter((s) => s === 1).length).toBeGreaterThan(20000);
    expect(Buffer.from(a.status).equals(Buffer.from(b.status))).toBe(true);
    expect(Buffer.compare(a.data, b.data)).toBe(0);
    // Physical page 0 (below the first PT_LOAD) is not in the dump; libkdumpfile 0.5.1 would crash on it.
    expect(errCode(() => elf.readPhys(0n, 8))).toBe('NOT_MAPPED');
    expect(errCode(() => elf.readPhys(0xfff000n, 8))).toBe('EXCLUDED_PAGE');
    rmSync(out);
  });
});

describe('API behaviour', () => {
  const file = path.join(FIX, 'sysrq-basic/vmcore.kdump-lzo');

  it('readBatch does thousands of reads in one call', () => {
    const d = new native.DumpFile(file, { backend: 'vaat' });
    const { addrs } = pfnBatch(d.attrs().maxPfn, 1);
    const sizes = new Uint32Array(addrs.length).fill(64);
    const t0 = performance.now();
    const { data, status } = d.readBatch('phys', addrs, sizes);
    const ms = performance.now() - t0;
    expect(data.length).toBe(addrs.length * 64);
    expect(status.length).toBe(addrs.length);
    console.log(`readBatch: ${addrs.length} reads in ${ms.toFixed(0)} ms`);
    // failed entries are zero-filled
    const bad = status.indexOf(2);
    expect(data.subarray(bad * 64, bad * 64 + 64).equals(Buffer.alloc(64))).toBe(true);
  });

  it('clone reads independently; close makes later calls fail', () => {
    for (const backend of ['libkdumpfile', 'vaat'] as const) {
      const d = new native.DumpFile(file, { backend });
      const c = d.clone();
      const sym = BigInt('0x' + vmci(d.attrs().vmcoreinfo, 'SYMBOL(init_uts_ns)'));
      const before = d.readVirt(sym, 256);
      d.close();
      expect(c.attrs().backend).toBe(backend);
      expect(c.readVirt(sym, 256).equals(before)).toBe(true);
      expect(errCode(() => d.readVirt(sym, 8))).toBe('IO');
      c.close();
    }
  });

  it('unmapped virtual and absent physical addresses throw NOT_MAPPED with the address', () => {
    for (const backend of ['libkdumpfile', 'vaat'] as const) {
      const d = new native.DumpFile(file, { backend });
      const e = thrown(() => d.readVirt(0xffffc90000000000n + 0x123000n, 8)); // vmalloc space, nothing there
      expect([e.code, e.address]).toEqual(['NOT_MAPPED', 0xffffc90000123000n]);
      expect(errCode(() => d.virtToPhys(0x0000800000000000n))).toBe('NOT_MAPPED'); // non-canonical
      const far = BigInt(d.attrs().maxPfn + 10) * 4096n;
      expect(thrown(() => d.readPhys(far, 8)).code).toBe('NOT_MAPPED');
    }
  });

  it('asking libkdumpfile for a container is UNSUPPORTED; bad arguments are TypeErrors', () => {
    expect(errCode(() => new native.DumpFile(path.join(FIX, 'oops-null-b/vmcore.flat-lzo'), { backend: 'libkdumpfile' }))).toBe('UNSUPPORTED');
    const d = new native.DumpFile(file, { backend: 'vaat' });
    expect(() => d.readPhys(-1n, 8)).toThrow(TypeError);
    expect(() => d.readPhys(0n, -5)).toThrow(RangeError);
  });
});

describe('faults', () => {
  const lzoFile = path.join(FIX, 'sysrq-basic/vmcore.kdump-lzo');
  let lzoBytes: Buffer;
  beforeAll(() => { lzoBytes = readFileSync(lzoFile); });
  const write = (name: string, data: Buffer | Uint8Array) => { const p = path.join(tmp, name); writeFileSync(p, data); return p; };

  // kdump-compressed layout from the header, as the tests need it to aim their damage.
  function layout(buf: Buffer) {
    const bs = buf.readInt32LE(428), sub = buf.readInt32LE(432), bmBlocks = buf.readUInt32LE(436);
    const maxMapnr = Number(buf.readBigUInt64LE(bs + 96));
    const bitmap = (1 + sub) * bs, half = (bmBlocks * bs) / 2, descStart = bitmap + bmBlocks * bs;
    const dumped: number[] = [];
    for (let pfn = 0; pfn < maxMapnr; pfn++) if (buf[bitmap + half + (pfn >> 3)] & (1 << (pfn & 7))) dumped.push(pfn);
    const descOf = (i: number) => descStart + 24 * i;
    // the page whose data is last in the file (zero pages all share the first data slot)
    let lastData = 0;
    dumped.forEach((_, i) => { if (buf.readBigInt64LE(descOf(i)) > buf.readBigInt64LE(descOf(lastData))) lastData = i; });
    return { bs, bitmap, descStart, dumped, descOf, lastDataPfn: dumped[lastData] };
  }

  it('empty and non-dump files are NOT_A_DUMP; detectFormat says null', () => {
    const empty = write('empty', Buffer.alloc(0));
    const text = path.join(FIX, 'README.md');
    for (const f of [empty, text, '/bin/ls']) {
      expect(errCode(() => new native.DumpFile(f))).toBe('NOT_A_DUMP');
      expect(native.detectFormat(f)).toBeNull();
    }
    expect(errCode(() => new native.DumpFile(path.join(tmp, 'no-such-file')))).toBe('IO');
  });

  it('a file cut inside the header is TRUNCATED at open', () => {
    for (const cut of [100, 4096 + 50, 4096 + 3000]) {
      const e = thrown(() => new native.DumpFile(write(`cut-${cut}`, lzoBytes.subarray(0, cut))));
      expect(e.code).toBe('TRUNCATED');
      expect(e.message).not.toContain('\n');
    }
  });

  it('a file cut in bitmaps, descriptors or page data opens as truncated; pages past the end throw TRUNCATED', () => {
    const L = layout(lzoBytes);
    const sym = BigInt('0x' + vmci(new native.DumpFile(lzoFile).attrs().vmcoreinfo, 'SYMBOL(init_uts_ns)'));
    const cuts = { bitmaps: L.bitmap + 5000, descriptors: L.descOf(9000) + 7, data: Math.floor(lzoBytes.length * 0.6) };
    for (const [where, cut] of Object.entries(cuts)) {
      const f = write(`cut-${where}`, lzoBytes.subarray(0, cut));
      const d = new native.DumpFile(f);
      const a = d.attrs();
      expect(a.truncated, where).toBe(true);
      expect(a.backend).toBe('vaat');
      expect(a.warnings.join(' ')).toMatch(/truncated/);
      expect(vmci(a.vmcoreinfo, 'OSRELEASE')).toBe('6.1.0-54-cloud-amd64');
      const last = BigInt(L.lastDataPfn) * 4096n;
      expect(errCode(() => d.readPhys(last, 8)), where).toBe('TRUNCATED');
      expect(d.readBatch('phys', BigUint64Array.of(last), Uint32Array.of(8)).status[0]).toBe(3);
      if (where === 'data') {
        // pages whose data lies before the cut still read
        const { addrs, sizes } = pfnBatch(a.maxPfn, 1);
        expect(d.readBatch('phys', addrs, sizes).status.filter((s) => s === 0).length).toBeGreaterThan(8000);
      } else {
        expect(errCode(() => d.readVirt(sym, 8))).toBe('TRUNCATED'); // the page tables' data is past the end
      }
    }
  });

  it('truncated flattened and lzop containers open truncated and fail late reads with TRUNCATED', () => {
    for (const f of ['oops-null-b/vmcore.flat-lzo', 'softlockup/vmcore.elf-d31.lzo']) {
      const bytes = readFileSync(path.join(FIX, f));
      const d = new native.DumpFile(write('cut-' + path.basename(f), bytes.subarray(0, Math.floor(bytes.length * 0.7))));
      const a = d.attrs();
      expect(a.truncated, f).toBe(true);
      expect(a.warnings.some((w) => /end marker/.test(w))).toBe(true);
      expect(vmci(a.vmcoreinfo, 'OSRELEASE')).toBe('6.1.0-54-cloud-amd64');
      // Which pages survive depends on the stream order; many do, the rest are TRUNCATED (status 3).
      const { addrs, sizes } = pfnBatch(a.maxPfn, 1);
      const st = d.readBatch('phys', addrs, sizes).status;
      expect(st.filter((s) => s === 0).length, f).toBeGreaterThan(3000);
      const i = st.lastIndexOf(3);
      expect(i, f).toBeGreaterThan(0);
      expect(errCode(() => d.readPhys(addrs[i], 8))).toBe('TRUNCATED');
    }
  });

  it('corrupt header fields are CORRUPT', () => {
    const patch = (name: string, f: (b: Buffer) => void) => { const b = Buffer.from(lzoBytes.subarray(0, 2 << 20)); f(b); return write(name, b); };
    expect(errCode(() => new native.DumpFile(patch('bad-blocksize', (b) => b.writeInt32LE(12345, 428))))).toBe('CORRUPT');
    expect(errCode(() => new native.DumpFile(patch('bad-mapnr', (b) => b.writeBigUInt64LE(1n << 60n, 4096 + 96))))).toBe('CORRUPT');
    expect(errCode(() => new native.DumpFile(patch('bad-note', (b) => b.writeBigInt64LE(1n << 40n, 4096 + 48))))).toBe('CORRUPT');
    expect(errCode(() => new native.DumpFile(patch('bad-magic', (b) => b.write('XDUMP', 0))))).toBe('NOT_A_DUMP');
  });

  it('corrupt page descriptors and page data are CORRUPT on read, for both back ends', () => {
    const L = layout(lzoBytes);
    const pick = 5000;
    const pfn = L.dumped[pick];
    const desc = L.descOf(pick);
    const addr = BigInt(pfn) * 4096n;
    const variants: Record<string, (b: Buffer) => void> = {
      size: (b) => b.writeUInt32LE(5000, desc + 8),
      offset: (b) => b.writeBigInt64LE(BigInt(lzoBytes.length + 100000), desc),
      header: (b) => b.writeBigInt64LE(100n, desc),
      data: (b) => { const off = Number(b.readBigInt64LE(desc)), size = b.readUInt32LE(desc + 8); b.fill(0xa5, off, off + size); b.writeUInt32LE(2, desc + 12); },
    };
    for (const [name, damage] of Object.entries(variants)) {
      const b = Buffer.from(lzoBytes);
      damage(b);
      const f = write(`corrupt-${name}`, b);
      const v = new native.DumpFile(f, { backend: 'vaat' });
      expect(v.attrs().truncated).toBe(false);
      const e = thrown(() => v.readPhys(addr, 64));
      expect(e.code, name).toBe('CORRUPT');
      expect(e.message).toMatch(/pfn|page/);
      // the libkdumpfile back end fails the same way (libkdumpfile alone would return zeros for some)
      const k = new native.DumpFile(f, { backend: 'libkdumpfile' });
      expect(errCode(() => k.readPhys(addr, 64)), name).toBe('CORRUPT');
      // neighbours still read
      expect(v.readPhys(BigInt(L.dumped[pick + 1]) * 4096n, 64).length).toBe(64);
    }
  });

  // A regular file is read through a mapping (native/mapped_file.cc): a page of it that can no
  // longer be read raises SIGBUS, which must become an IO error and leave the process running.
  it('a dump file that shrinks while open: later reads past the cut are IO errors, earlier ones still read', () => {
    const L = layout(lzoBytes);
    const f = path.join(tmp, 'shrinks.kdump-lzo');
    copyFileSync(lzoFile, f);
    const d = new native.DumpFile(f);
    const maxPfn = d.attrs().maxPfn;
    truncateSync(f, Math.floor(lzoBytes.length / 2));
    const e = thrown(() => d.readPhys(BigInt(L.lastDataPfn) * 4096n, 8));
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(/shrank/);
    expect(e.message).not.toContain('\n');
    const { addrs, sizes } = pfnBatch(maxPfn, 1);
    const st = d.readBatch('phys', addrs, sizes).status;
    expect(st.filter((s) => s === 0).length).toBeGreaterThan(1000); // data before the cut
    expect(st.some((s) => s !== 0 && s !== 4)).toBe(true); // data past it (4: excluded pages)
  });

  it('reading through the mapping and through pread (VAAT_FILE_IO=pread) gives the same pages', () => {
    const read = (file: string) => {
      const d = new native.DumpFile(file);
      const { addrs, sizes } = pfnBatch(d.attrs().maxPfn, 3);
      return d.readBatch('phys', addrs, sizes);
    };
    for (const file of [lzoFile, path.join(FIX, 'oops-null-b/vmcore.flat-lzo'), path.join(FIX, 'softlockup/vmcore.elf-d31.lzo')]) {
      const mapped = read(file);
      process.env.VAAT_FILE_IO = 'pread';
      let pread;
      try { pread = read(file); } finally { delete process.env.VAAT_FILE_IO; }
      expect(mapped.status.filter((s) => s === 0).length, file).toBeGreaterThan(1000);
      expect(Buffer.from(pread.status).equals(Buffer.from(mapped.status)), file).toBe(true);
      expect(pread.data.equals(mapped.data), file).toBe(true);
    }
  });

  it('a corrupt lzop block is CORRUPT; a corrupt flattened record is CORRUPT at open', () => {
    const src = readFileSync(path.join(FIX, 'softlockup/vmcore.elf-d31.lzo'));
    // Walk the lzop blocks: header = 0x22 + name length, then checksum; blocks {u32 raw, u32 packed, adler32, data}.
    let off = 0x21 + 1 + src[0x21] + 4;
    const blocks: { data: number; packed: number }[] = [];
    while (src.readUInt32BE(off) !== 0) {
      const raw = src.readUInt32BE(off), packed = src.readUInt32BE(off + 4);
      blocks.push({ data: off + 12, packed });
      off += 12 + packed;
      expect(packed).toBeLessThanOrEqual(raw);
    }
    expect(blocks.length).toBeGreaterThan(100);
    const b = Buffer.from(src);
    const victim = blocks[200];
    for (let i = 0; i < 64; i++) b[victim.data + 100 + i] ^= 0x5a;
    const d = new native.DumpFile(write('corrupt.lzo', b));
    const { addrs, sizes } = pfnBatch(d.attrs().maxPfn, 1);
    const st = d.readBatch('phys', addrs, sizes).status;
    const bad = st.indexOf(3);
    expect(bad).toBeGreaterThan(0);
    expect(st.filter((s) => s === 3).length).toBeLessThanOrEqual(64 + 1); // one 256 KiB block = 64 pages
    const e = thrown(() => d.readPhys(addrs[bad], 8));
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/lzop block/);

    const flat = Buffer.from(readFileSync(path.join(FIX, 'oops-null-b/vmcore.flat-lzo')).subarray(0, 1 << 20));
    flat.writeBigInt64BE(-5n, 4096); // first record's offset
    expect(errCode(() => new native.DumpFile(write('corrupt.flat', flat)))).toBe('CORRUPT');
  });
});
