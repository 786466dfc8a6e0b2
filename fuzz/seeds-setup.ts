/**
 * The seed set: the fixtures' dumps in every container and codec vaat reads, plus the lzop
 * fixture unwrapped into a plain ELF (in the fuzz work directory, never beside the fixtures).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeSeed, type SeedDump, type SeedKind } from './seeds.js';

export function fixturesDir(root: string): string {
  return process.env.VAAT_FIXTURES ?? resolve(root, '../shared/fixtures');
}

const SEEDS: [string, string, SeedKind][] = [
  ['kdump-lzo', 'sysrq-basic/vmcore.kdump-lzo', 'kdump'],
  ['kdump-zlib', 'sysrq-basic/vmcore.kdump-zlib', 'kdump'],
  ['kdump-zstd', 'cgroup-mutex-hung/vmcore.kdump-zstd', 'kdump'],
  ['kdump-snappy', 'oops-null-a/vmcore.kdump-snappy', 'kdump'],
  ['qemu-kdump-zlib', 'qemu-dump/vmcore.qemu-kdump-zlib', 'kdump'],
  ['flattened-lzo', 'oops-null-b/vmcore.flat-lzo', 'flattened'],
  ['lzop-elf', 'softlockup/vmcore.elf-d31.lzo', 'lzop'],
];

/** seeds, with the plain ELF made in `work` */
export function seedSet(root: string, work: string): SeedDump[] {
  const fx = fixturesDir(root);
  const seeds = SEEDS.filter(([, rel]) => existsSync(join(fx, rel))).map(([name, rel, kind]) => describeSeed(name, join(fx, rel), kind));
  const lzo = join(fx, 'softlockup/vmcore.elf-d31.lzo');
  const elf = join(work, 'softlockup.elf');
  if (existsSync(lzo)) {
    if (!existsSync(elf)) execFileSync('lzop', ['-d', '-f', '-o', elf, lzo]);
    seeds.push(describeSeed('elf', elf, 'elf'));
  }
  return seeds;
}

/** the kernel BTF the BTF inputs damage */
export function btfPath(root: string): string {
  return join(fixturesDir(root), 'kernel-6.1.0-54-cloud-amd64', 'vmlinux.btf');
}

/** seeds whose kernel memory the memory inputs damage (one per container family is enough) */
export const MEMORY_SEEDS = ['kdump-lzo', 'kdump-zstd', 'elf'];
