/**
 * Hostile inputs made from the real fixtures, into a temporary directory: never committed, never
 * written to the fixtures. Each maker copies a fixture and damages one thing a hostile or broken
 * machine could have written.
 */
import { closeSync, copyFileSync, chmodSync, mkdtempSync, openSync, readSync, rmSync, writeSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir } from '../fixtures.js';

export function fixturePath(rel: string): string { return join(fixturesDir, rel); }

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
