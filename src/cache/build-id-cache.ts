/**
 * Files cached per kernel build: `${XDG_CACHE_HOME:-~/.cache}/vaat/<kind>-<build-id>.bin`.
 * Everything derived from a kernel image alone (its DWARF type index, its decoded kallsyms) is the
 * same for every dump of that build, so only the first dump of a kernel pays for deriving it.
 *
 * A file is a 96-byte header (magic, kind, format version, payload length, checksum, build-id) and
 * the payload. A file that fails any check is reported as a miss with the reason, never used;
 * writes go to a temporary file renamed into place, so readers never see half a file and
 * concurrent writers (fleet workers) do not collide.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadNativeOrNull } from '../dump/native.js';
import { crc32, hasNodeCrc32 } from './crc32.js';

// VAATC004: the checksum is CRC-32 (SHA-1's first 32 bits before)
const MAGIC = 'VAATC004';

/**
 * The payload's checksum: CRC-32 — Node's zlib.crc32 where it has one (20.15+: SIMD, ~2 ms for
 * the 11 MB type index), else the addon's (the system zlib's, ~9 ms), else JavaScript's table.
 */
function checksum(data: Uint8Array): number {
  if (hasNodeCrc32) return crc32(data);
  const native = loadNativeOrNull();
  return native?.crc32 ? native.crc32(data) : crc32(data);
}
const HEADER = 96;
const KIND_FIELD = 16;
const BUILD_ID_FIELD = 56;

export type CacheHit = { data: Buffer; file: string } | { data: null; why: string };

/** the cache directory; VAAT_CACHE=off turns caching off (null) */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.VAAT_CACHE === 'off') return null;
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'vaat');
}

/** null for a build-id that is not plain hex (it never becomes part of a path) or when caching is off */
export function cachePath(kind: string, buildId: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = cacheDir(env);
  if (!dir || !/^[0-9a-f]{8,112}$/.test(buildId) || !/^[a-z][a-z0-9-]{0,15}$/.test(kind)) return null;
  return join(dir, `${kind}-${buildId}.bin`);
}

/** the payload cached for (kind, build-id, version), or why there is none */
export function readCache(kind: string, buildId: string, version: number, env: NodeJS.ProcessEnv = process.env): CacheHit {
  const file = cachePath(kind, buildId, env);
  if (!file) return { data: null, why: 'caching off or build-id not hex' };
  let buf: Buffer;
  try { buf = readWhole(file); } catch { return { data: null, why: 'no cache file' }; }
  if (buf.length < HEADER || buf.toString('latin1', 0, 8) !== MAGIC) return { data: null, why: 'not a vaat cache file' };
  if (buf.toString('latin1', 8, 8 + KIND_FIELD).replace(/\0+$/, '') !== kind) return { data: null, why: 'a cache file of another kind' };
  if (buf.readUInt32LE(24) !== version) return { data: null, why: 'written by another vaat version' };
  const len = Number(buf.readBigUInt64LE(28));
  if (len !== buf.length - HEADER) return { data: null, why: `truncated (${buf.length - HEADER} of ${len} bytes)` };
  const id = buf.toString('latin1', 40, 40 + BUILD_ID_FIELD).replace(/\0+$/, '');
  if (id !== buildId) return { data: null, why: `holds build-id ${id}` };
  const data = buf.subarray(HEADER);
  if (checksum(data) !== buf.readUInt32LE(36)) return { data: null, why: 'checksum mismatch' };
  return { data, file };
}

/** the largest cache file read (the DWARF index with inline ranges is ~30 MB) */
const MAX_CACHE_FILE = 1 << 30;

/**
 * A cache file's bytes. Through the addon where it can (huge pages: a fresh 11 MB Buffer cost
 * ~2,800 page faults, ~35 ms, under a hypervisor; the addon's read takes ~12 ms), else Node's.
 */
function readWhole(file: string): Buffer {
  const native = loadNativeOrNull();
  return native?.readFileHuge ? native.readFileHuge(file, MAX_CACHE_FILE) : readFileSync(file);
}

/** store a payload atomically (temp file + rename); returns the cache file */
export function writeCache(kind: string, buildId: string, version: number, data: Uint8Array, env: NodeJS.ProcessEnv = process.env): string {
  const file = cachePath(kind, buildId, env);
  if (!file) throw new Error(`cannot cache ${kind} for build-id '${buildId}': caching off or build-id not hex`);
  mkdirSync(cacheDir(env)!, { recursive: true });
  const head = Buffer.alloc(HEADER);
  head.write(MAGIC, 0, 'latin1');
  head.write(kind, 8, KIND_FIELD, 'latin1');
  head.writeUInt32LE(version, 24);
  head.writeBigUInt64LE(BigInt(data.length), 28);
  head.writeUInt32LE(checksum(data), 36);
  head.write(buildId, 40, BUILD_ID_FIELD, 'latin1');
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeFileSync(fd, head);
      writeFileSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return file;
}
