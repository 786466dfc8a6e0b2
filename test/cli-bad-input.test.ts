/**
 * Bad input never crashes vaat and never gives a silent wrong answer: each case ends in exactly
 * one line on stderr naming the file and the fault, and a non-zero exit (1 for dump faults).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { dumps, projectRoot } from './fixtures.js';
import { vaat, type CliResult } from './cli.js';

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'vaat-bad-')); chmodSync(tmp, 0o755); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fixture = (name: string) => dumps.find((d) => d.name === name)!.path;

/** one line on stderr that names the file, exit status 1, no signal, no stack trace */
function expectCleanFailure(r: CliResult, file: string, fault: RegExp): void {
  expect(r.signal).toBeNull();
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(file);
  expect(lines[0]).toMatch(fault);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** a private copy of a fixture to damage */
function copyOf(name: string, as = name): string {
  const p = join(tmp, as);
  copyFileSync(fixture(name), p);
  chmodSync(p, 0o644);
  return p;
}

function patch(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try { writeSync(fd, bytes, 0, bytes.length, offset); } finally { closeSync(fd); }
}

describe('files that are not dumps', () => {
  it('a missing file', async () => {
    const f = join(tmp, 'does-not-exist');
    expectCleanFailure(await vaat(['info', f]), f, /no such file/);
  });
  it('a directory', async () => {
    expectCleanFailure(await vaat(['info', tmp]), tmp, /directory/);
  });
  it('an empty file', async () => {
    const f = join(tmp, 'empty');
    writeFileSync(f, '');
    expectCleanFailure(await vaat(['info', f]), f, /empty|not a (kernel )?(vmcore|dump)/i);
  });
  it('a file that is not a dump', async () => {
    const f = join(projectRoot, 'package.json');
    expectCleanFailure(await vaat(['info', f]), f, /not a (kernel )?(vmcore|dump)/i);
  });
  it('a file without read permission', async () => {
    const f = join(tmp, 'unreadable');
    copyFileSync(join(projectRoot, 'package.json'), f);
    chmodSync(f, 0o000);
    // Root reads anything, so drop to an unprivileged user for this one.
    const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
    expect(hasSetpriv).toBe(true);
    const r = await vaat(['info', f], { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] });
    expectCleanFailure(r, f, /permission denied/i);
  });
});

describe('truncated dumps (as makedumpfile leaves vmcore-incomplete)', () => {
  for (const name of ['vmcore.kdump-lzo', 'vmcore.flat-lzo', 'vmcore.elf-d31.lzo']) {
    const size = () => statSync(fixture(name)).size;
    it(`${name}: cut inside the header is refused`, async () => {
      const f = copyOf(name, `${name}.cut-header`);
      truncateSync(f, 300);
      expectCleanFailure(await vaat(['info', f]), f, /truncat|ends inside|not a (kernel )?(vmcore|dump)/i);
    });
    for (const frac of [0.25, 0.5, 0.9]) {
      it(`${name}: cut at ${frac * 100}% opens, says it is truncated, and refuses pages past the end`, async () => {
        const f = copyOf(name, `${name}.cut-${frac}`);
        truncateSync(f, Math.floor(size() * frac));
        const r = await vaat(['info', f, '--json']);
        expect(r.signal).toBeNull();
        expect(r.status).toBe(0);
        const info = JSON.parse(r.stdout);
        expect(info.truncated).toBe(true);
        expect(info.warnings.join(' ')).toMatch(/truncat/i);
        expect(info.release).toBe('6.1.0-54-cloud-amd64');
        // The human form says so too.
        expect((await vaat(['info', f])).stdout).toMatch(/truncated/);
      });
    }
  }
});

describe('corrupted dumps', () => {
  it('a damaged signature is not a dump', async () => {
    const f = copyOf('vmcore.kdump-lzo', 'bad-signature');
    patch(f, 0, Buffer.from('XXXXXXXX'));
    expectCleanFailure(await vaat(['info', f]), f, /not a (kernel )?(vmcore|dump)/i);
  });
  it('an impossible block size in the header', async () => {
    const f = copyOf('vmcore.kdump-lzo', 'bad-blocksize');
    const b = Buffer.alloc(4); b.writeInt32LE(12345, 0);
    patch(f, 428, b); // disk_dump_header.block_size
    expectCleanFailure(await vaat(['info', f]), f, /corrupt|block size/i);
  });
  it('an absurd bitmap size in the header', async () => {
    const f = copyOf('vmcore.kdump-lzo', 'bad-bitmap');
    const b = Buffer.alloc(4); b.writeUInt32LE(0x7fffffff, 0);
    patch(f, 436, b); // disk_dump_header.bitmap_blocks
    expectCleanFailure(await vaat(['info', f]), f, /corrupt|truncat|bitmap/i);
  });
  it('a page descriptor that points outside the file', async () => {
    const f = copyOf('vmcore.kdump-lzo', 'bad-descriptor');
    const head = readFileSync(f).subarray(0, 64 * 1024);
    const bs = head.readInt32LE(428), sub = head.readInt32LE(432), bmp = head.readUInt32LE(436);
    // The first pfn the 2nd (dumped-pages) bitmap marks owns the first page descriptor.
    const second = readFileSync(f).subarray((1 + sub) * bs + (bmp / 2) * bs);
    let pfn = 0;
    while (!(second[pfn >> 3] & (1 << (pfn & 7)))) pfn++;
    const descs = (1 + sub + bmp) * bs;
    const d = Buffer.alloc(12);
    d.writeBigInt64LE(0x7fff_ffff_ffffn, 0); // offset far past the end
    d.writeUInt32LE(4096, 8);
    patch(f, descs, d);
    const r = await vaat(['rd', f, '-p', (pfn * 4096).toString(16), '-n', '16']);
    expectCleanFailure(r, f, /corrupt|outside|beyond|truncat/i);
    // The same address reads fine in the intact file, so the failure is the damage, not the address.
    expect((await vaat(['rd', fixture('vmcore.kdump-lzo'), '-p', (pfn * 4096).toString(16), '-n', '16'])).status).toBe(0);
  });
  it('a corrupt lzop block', async () => {
    const f = copyOf('vmcore.elf-d31.lzo', 'bad-lzop');
    // Damage compressed data early in the file, in the first blocks that hold the ELF headers and notes.
    patch(f, 2000, Buffer.alloc(64, 0xa5));
    expectCleanFailure(await vaat(['info', f]), f, /corrupt|checksum|lzo/i);
  });
});

describe('reading excluded pages', () => {
  it('is an error by default and zeros only when asked', async () => {
    const f = fixture('vmcore.kdump-lzo');
    const head = readFileSync(f).subarray(0, 64 * 1024);
    const bs = head.readInt32LE(428), sub = head.readInt32LE(432), bmp = head.readUInt32LE(436);
    const all = readFileSync(f);
    const first = all.subarray((1 + sub) * bs);
    const second = all.subarray((1 + sub) * bs + (bmp / 2) * bs);
    // a pfn that is RAM (1st bitmap) but was not dumped (2nd bitmap): -d 31 excluded it
    let pfn = 0;
    while (!((first[pfn >> 3] & (1 << (pfn & 7))) && !(second[pfn >> 3] & (1 << (pfn & 7))))) pfn++;
    const addr = (pfn * 4096).toString(16);
    expectCleanFailure(await vaat(['rd', f, '-p', addr]), f, /exclud/i);
    const r = await vaat(['rd', f, '-p', addr, '-n', '32', '--zero-excluded', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).bytes).toBe('00'.repeat(32));
  });
});
