/**
 * The dumps the fuzzer starts from and where their structures are: header fields, regions
 * (bitmaps, page descriptors, page data, ELF notes, VMCOREINFO, container blocks) and structure
 * boundaries to truncate at. Found by parsing each file's own headers, never hard-coded.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export type SeedKind = 'kdump' | 'elf' | 'flattened' | 'lzop';
export interface Region { name: string; start: number; end: number }
export interface Field { name: string; offset: number; width: 2 | 4 | 8; be?: boolean }
export interface SeedDump {
  name: string;
  path: string;
  kind: SeedKind;
  size: number;
  regions: Region[];
  fields: Field[];
  /** offsets where a structure ends: truncating there cuts the file between two structures */
  boundaries: number[];
  /** kdump: where the page descriptors are, 24 bytes each */
  descriptors?: { start: number; count: number };
}

function readAt(path: string, off: number, len: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(len);
    return b.subarray(0, readSync(fd, b, 0, len, off));
  } finally { closeSync(fd); }
}

function popcount(b: Buffer): number {
  let n = 0;
  for (const x of b) { let v = x; while (v) { n += v & 1; v >>= 1; } }
  return n;
}

/** disk_dump_header and kdump_sub_header fields (makedumpfile's diskdump_mod.h) */
const KDUMP_FIELDS: [string, number, 2 | 4 | 8][] = [
  ['header_version', 8, 4], ['block_size', 428, 4], ['sub_hdr_size', 432, 4], ['bitmap_blocks', 436, 4],
  ['max_mapnr', 440, 4], ['total_ram_blocks', 444, 4], ['device_blocks', 448, 4], ['written_blocks', 452, 4],
  ['current_cpu', 456, 4], ['nr_cpus', 460, 4],
];
const SUB_FIELDS: [string, number, 2 | 4 | 8][] = [
  ['phys_base', 0, 8], ['dump_level', 8, 4], ['split', 12, 4], ['start_pfn', 16, 8], ['end_pfn', 24, 8],
  ['offset_vmcoreinfo', 32, 8], ['size_vmcoreinfo', 40, 8], ['offset_note', 48, 8], ['size_note', 56, 8],
  ['offset_eraseinfo', 64, 8], ['size_eraseinfo', 72, 8], ['start_pfn_64', 80, 8], ['end_pfn_64', 88, 8], ['max_mapnr_64', 96, 8],
];

function kdumpLayout(path: string, base: number, size: number): Omit<SeedDump, 'name' | 'path' | 'kind' | 'size'> {
  const h = readAt(path, base, 4096);
  const bs = h.readInt32LE(428), sub = h.readInt32LE(432), bmp = h.readUInt32LE(436);
  const s = readAt(path, base + bs, 128);
  const fields: Field[] = [
    ...KDUMP_FIELDS.map(([n, o, w]) => ({ name: n, offset: base + o, width: w })),
    ...SUB_FIELDS.map(([n, o, w]) => ({ name: `sub.${n}`, offset: base + bs + o, width: w })),
  ];
  const bitmaps = base + (1 + sub) * bs;
  const half = (bmp / 2) * bs;
  const dumped = readAt(path, bitmaps + half, half);
  const count = popcount(dumped);
  const descStart = bitmaps + bmp * bs;
  const vmciOff = Number(s.readBigInt64LE(32)), vmciLen = Number(s.readBigUInt64LE(40));
  const noteOff = Number(s.readBigInt64LE(48)), noteLen = Number(s.readBigUInt64LE(56));
  const regions: Region[] = [
    { name: 'header', start: base, end: base + 464 },
    { name: 'sub-header', start: base + bs, end: base + bs + 104 },
    { name: 'vmcoreinfo', start: base + vmciOff, end: base + vmciOff + vmciLen },
    { name: 'notes', start: base + noteOff, end: base + noteOff + noteLen },
    { name: 'bitmap-ram', start: bitmaps, end: bitmaps + half },
    { name: 'bitmap-dumped', start: bitmaps + half, end: bitmaps + 2 * half },
    { name: 'descriptors', start: descStart, end: descStart + count * 24 },
    { name: 'page-data', start: descStart + count * 24, end: size },
  ].filter((r) => r.end > r.start && r.start < size);
  const boundaries = [base + 464, base + bs, base + bs + 104, base + noteOff + noteLen, base + vmciOff + vmciLen, bitmaps,
    bitmaps + half, bitmaps + 2 * half, descStart + 24 * Math.floor(count / 2), descStart + count * 24];
  return { regions, fields, boundaries: boundaries.filter((b) => b > 0 && b < size), descriptors: { start: descStart, count } };
}

function elfLayout(path: string, size: number): Omit<SeedDump, 'name' | 'path' | 'kind' | 'size'> {
  const e = readAt(path, 0, 64);
  const phoff = Number(e.readBigUInt64LE(32)), phnum = e.readUInt16LE(56);
  const ph = readAt(path, phoff, 56 * phnum);
  const fields: Field[] = [
    { name: 'e_type', offset: 16, width: 2 }, { name: 'e_machine', offset: 18, width: 2 }, { name: 'e_phoff', offset: 32, width: 8 },
    { name: 'e_shoff', offset: 40, width: 8 }, { name: 'e_phentsize', offset: 54, width: 2 }, { name: 'e_phnum', offset: 56, width: 2 },
    { name: 'e_shnum', offset: 60, width: 2 },
  ];
  const regions: Region[] = [{ name: 'elf-header', start: 0, end: 64 }, { name: 'program-headers', start: phoff, end: phoff + 56 * phnum }];
  const boundaries = [64, phoff + 56 * Math.floor(phnum / 2), phoff + 56 * phnum];
  for (let i = 0; i < phnum; i++) {
    const p = ph.subarray(i * 56);
    const at = phoff + i * 56;
    fields.push(
      { name: `ph${i}.p_type`, offset: at, width: 4 }, { name: `ph${i}.p_offset`, offset: at + 8, width: 8 },
      { name: `ph${i}.p_paddr`, offset: at + 24, width: 8 }, { name: `ph${i}.p_filesz`, offset: at + 32, width: 8 },
      { name: `ph${i}.p_memsz`, offset: at + 40, width: 8 },
    );
    const off = Number(p.readBigUInt64LE(8)), filesz = Number(p.readBigUInt64LE(32));
    const type = p.readUInt32LE(0);
    if (type === 4) regions.push({ name: 'notes', start: off, end: off + filesz });
    if (type === 1 && filesz > 0 && regions.filter((r) => r.name === 'load').length < 64) regions.push({ name: 'load', start: off, end: off + filesz });
    if (filesz > 0) boundaries.push(off + filesz, off + Math.floor(filesz / 2 / 4096) * 4096);
  }
  return { regions: regions.filter((r) => r.start < size), fields, boundaries: boundaries.filter((b) => b > 0 && b < size) };
}

/** lzop: file header, then blocks (u32 BE uncompressed and compressed lengths, checksums, data) */
function lzopLayout(path: string, size: number): Omit<SeedDump, 'name' | 'path' | 'kind' | 'size'> {
  const h = readAt(path, 0, 512);
  let p = 9;
  const version = h.readUInt16BE(p); p += 4;
  if (version >= 0x0940) p += 2;
  p += 1;
  if (version >= 0x0940) p += 1;
  const flags = h.readUInt32BE(p); p += 4;
  if (flags & 0x800) p += 4;
  p += 8;
  if (version >= 0x0940) p += 4;
  p += 1 + h[p] + 4;
  const fields: Field[] = [{ name: 'lzop.flags', offset: 9 + 4 + (version >= 0x0940 ? 2 : 0) + 1 + (version >= 0x0940 ? 1 : 0), width: 4, be: true }];
  const regions: Region[] = [{ name: 'lzop-header', start: 0, end: p }];
  const boundaries = [p];
  let blocks = 0;
  while (p + 8 <= size && blocks < 4096) {
    const b = readAt(path, p, 8);
    const dst = b.readUInt32BE(0);
    if (dst === 0) break;
    const src = b.readUInt32BE(4);
    let q = p + 8;
    if (flags & 1) q += 4;
    if (flags & 0x100) q += 4;
    if (src < dst) { if (flags & 2) q += 4; if (flags & 0x200) q += 4; }
    if (blocks < 64) {
      fields.push({ name: `block${blocks}.dst_len`, offset: p, width: 4, be: true }, { name: `block${blocks}.src_len`, offset: p + 4, width: 4, be: true });
      regions.push({ name: 'block-header', start: p, end: q }, { name: 'block-data', start: q, end: Math.min(size, q + src) });
    }
    boundaries.push(p + 4, q + Math.floor(src / 2), q + src);
    p = q + src;
    blocks++;
  }
  return { regions, fields, boundaries: boundaries.filter((b) => b > 0 && b < size) };
}

/** makedumpfile -F: a 4 KiB header, then records of (offset, size) as big-endian i64 and data */
function flattenedLayout(path: string, size: number): Omit<SeedDump, 'name' | 'path' | 'kind' | 'size'> {
  const fields: Field[] = [{ name: 'flat.type', offset: 16, width: 4, be: true }, { name: 'flat.version', offset: 20, width: 4, be: true }];
  const regions: Region[] = [{ name: 'flat-header', start: 0, end: 4096 }];
  const boundaries = [4096];
  let p = 4096, n = 0;
  while (p + 16 <= size && n < 100_000) {
    const r = readAt(path, p, 16);
    const len = Number(r.readBigInt64BE(8));
    if (len < 0) break;
    if (n < 256) {
      fields.push({ name: `record${n}.offset`, offset: p, width: 8, be: true }, { name: `record${n}.size`, offset: p + 8, width: 8, be: true });
      regions.push({ name: 'record-header', start: p, end: p + 16 });
    }
    if (n < 64) boundaries.push(p + 8, p + 16 + Math.floor(len / 2));
    p += 16 + len;
    n++;
  }
  boundaries.push(p);
  regions.push({ name: 'record-data', start: 4096, end: size });
  return { regions, fields, boundaries: boundaries.filter((b) => b > 0 && b < size) };
}

export function describeSeed(name: string, path: string, kind: SeedKind): SeedDump {
  const size = statSync(path).size;
  const l = kind === 'kdump' ? kdumpLayout(path, 0, size) : kind === 'elf' ? elfLayout(path, size) : kind === 'lzop' ? lzopLayout(path, size) : flattenedLayout(path, size);
  return { name, path, kind, size, ...l };
}
