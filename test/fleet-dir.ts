/**
 * A fleet directory for the fleet tests, built in a temp dir from symlinks to the fixtures (never
 * writing under them): a kdump `<host>-<date>/vmcore` layout, nested directories, a non-dump
 * `vmcore-dmesg.txt`, a truncated copy named `vmcore-incomplete`, and a symlink loop.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumps, type DumpFixture } from './fixtures.js';

export interface FleetDir {
  root: string;
  /** every dump link, with the fixture it points at */
  links: { path: string; fixture: DumpFixture }[];
  incomplete: string;
  nonDump: string;
}

const place: Record<string, string> = {
  'sysrq-basic/vmcore.kdump-lzo': 'web1-2026-11-21-21:41/vmcore',
  'sysrq-basic/vmcore.kdump-zlib': 'copies/sysrq.zlib',
  'cgroup-mutex-hung/vmcore.kdump-zstd': 'db2-2026-11-21-21:47/vmcore',
  'oops-null-a/vmcore.kdump-snappy': 'nested/deeper/oops-a',
  'oops-null-b/vmcore.flat-lzo': 'nested/vmcore.flat',
  'softlockup/vmcore.elf-d31.lzo': 'vmcore.lzo',
  'qemu-dump/vmcore.qemu-kdump-zlib': 'qemu/dump',
};

export function makeFleetDir(): FleetDir {
  const root = mkdtempSync(join(tmpdir(), 'vaat-fleet-'));
  const links: FleetDir['links'] = [];
  for (const f of dumps) {
    const rel = place[`${f.scenario}/${f.name}`] ?? `other/${f.scenario}-${f.name}`;
    const path = join(root, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    symlinkSync(f.path, path);
    links.push({ path, fixture: f });
  }
  // a capture cut short: the first 3 MB of a dump (headers intact, most pages missing)
  const incomplete = join(root, 'web1-2026-11-21-21:41', 'vmcore-incomplete');
  const src = dumps.find((d) => d.scenario === 'oops-null-a')!.path;
  const buf = Buffer.alloc(3 << 20);
  const fd = openSync(src, 'r');
  try { readSync(fd, buf, 0, buf.length, 0); } finally { closeSync(fd); }
  writeFileSync(incomplete, buf);
  const nonDump = join(root, 'web1-2026-11-21-21:41', 'vmcore-dmesg.txt');
  writeFileSync(nonDump, '[    0.000000] Linux version 6.1.0-54-cloud-amd64\n'.repeat(200));
  symlinkSync(root, join(root, 'nested', 'loop'));
  return { root, links, incomplete, nonDump };
}
