/**
 * The plumbing under every per-build cache: files read whole by the addon (huge pages), their
 * CRC-32, and the CLI's V8 code cache (bin/load-bundle.js) — a missing, damaged or stale file is
 * only a slower start, never a failure or another build's code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNative } from '../src/dump/native.js';
import { readCache, writeCache } from '../src/cache/build-id-cache.js';
import { crc32Table } from '../src/cache/crc32.js';
import { vaat } from './cli.js';
import { dumps } from './fixtures.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'vaat-cachefiles-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cache files', () => {
  const native = loadNative();

  it('CRC-32: the addon and the JavaScript fallback agree, on the standard check value and on random bytes', () => {
    const check = Buffer.from('123456789');
    expect(native.crc32!(check)).toBe(0xcbf43926);
    expect(crc32Table(check)).toBe(0xcbf43926);
    const bytes = Buffer.alloc(100_003);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    expect(native.crc32!(bytes)).toBe(crc32Table(bytes));
    expect(crc32Table(new Uint8Array(0))).toBe(0);
  });

  it('readFileHuge returns the file exactly, and refuses what is not a regular file or too large', () => {
    const f = join(dir, 'blob');
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);
    bytes.write('head', 0);
    writeFileSync(f, bytes);
    expect(Buffer.compare(native.readFileHuge!(f, 1 << 30), bytes)).toBe(0);
    expect(() => native.readFileHuge!(join(dir, 'missing'), 1 << 30)).toThrow(/cannot open/);
    expect(() => native.readFileHuge!(dir, 1 << 30)).toThrow(/not a regular file/);
    expect(() => native.readFileHuge!(f, 1024)).toThrow(/larger than 1024 bytes/);
  });

  it('a cache payload written is read back; one flipped byte is a miss that says why', () => {
    const env = { ...process.env, XDG_CACHE_HOME: dir };
    const payload = Buffer.from('some derived table '.repeat(1000));
    const file = writeCache('test', '0123456789abcdef', 7, payload, env);
    const hit = readCache('test', '0123456789abcdef', 7, env);
    expect(hit.data && Buffer.compare(hit.data, payload)).toBe(0);
    const raw = readFileSync(file);
    raw[raw.length - 5] ^= 0x01;
    writeFileSync(file, raw);
    expect(readCache('test', '0123456789abcdef', 7, env)).toEqual({ data: null, why: 'checksum mismatch' });
    expect(readCache('test', '0123456789abcdef', 8, env).data).toBeNull(); // another version
  });
});

describe('the CLI bundle\'s code cache', () => {
  const sysrq = dumps.find((d) => d.name === 'vmcore.kdump-lzo')!;
  const codeFiles = (home: string): string[] => readdirSync(join(home, 'vaat')).filter((n) => /^code-v[\d.]+-\w+-[a-z][a-z0-9-]*\.bin$/.test(n)).sort();
  const header = (f: string): string => { const b = readFileSync(f); return b.toString('latin1', 0, b.indexOf(10)); };

  it('one file per command, and a damaged or another build\'s cache is rebuilt with the same output', async () => {
    const home = join(dir, 'xdg');
    mkdirSync(home, { recursive: true });
    const env = { ...process.env, XDG_CACHE_HOME: home };
    const plain = await vaat(['ps', sysrq.path, '--json'], { env: { ...process.env, VAAT_CACHE: 'off' } });
    expect(plain.status).toBe(0);
    expect((await vaat(['--version'], { env })).status).toBe(0);
    const first = await vaat(['ps', sysrq.path, '--json'], { env });
    expect(first.stdout).toBe(plain.stdout);
    const files = codeFiles(home);
    expect(files.map((n) => n.replace(/^code-v[\d.]+-\w+-/, ''))).toEqual(['main.bin', 'ps.bin']);
    const f = join(home, 'vaat', files[1]);
    const good = header(f);
    expect(good).toMatch(/^vaat-code 3 \d+ [\d.]+ [0-9a-f]+$/);
    // V8's data damaged (V8 itself would abort on it): refused by its CRC-32, the command runs as
    // without a cache, and the file is rewritten
    const b = readFileSync(f);
    const at = b.indexOf(10) + 1;
    for (let i = at + 64; i < Math.min(b.length, at + 4096); i++) b[i] ^= 0xff;
    writeFileSync(f, b);
    const damaged = await vaat(['ps', sysrq.path, '--json'], { env });
    expect(damaged.status).toBe(0);
    expect(damaged.stdout).toBe(plain.stdout);
    expect(header(f)).toMatch(/^vaat-code 3 /);
    expect(readFileSync(f).subarray(at, at + 4096).equals(b.subarray(at, at + 4096))).toBe(false);
    // stamped for another build of the bundle: never handed to V8, replaced
    const data = readFileSync(f).subarray(readFileSync(f).indexOf(10) + 1);
    writeFileSync(f, Buffer.concat([Buffer.from(header(f).replace(/^vaat-code 3 \d+ /, 'vaat-code 3 1 ') + '\n'), data]));
    const other = await vaat(['ps', sysrq.path, '--json'], { env });
    expect(other.stdout).toBe(plain.stdout);
    expect(header(f)).not.toMatch(/^vaat-code 3 1 /);
  });
});
