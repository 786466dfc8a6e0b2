/**
 * A small ELF64 section reader: the file header, the section headers and their names, and one
 * section's bytes, all by positioned reads. A debug vmlinux is ~600 MB and the sections wanted
 * here (.symtab, .strtab, .BTF) are a few MB of it, so the file is never read whole. Every offset
 * and size taken from the file is checked against the file's size before it is read.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { VaatError } from '../dump/errors.js';

export class ElfFormatError extends VaatError {}

export const SHT_NOBITS = 8;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOTE = 7;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
/** e_type values */
export const ET_REL = 1, ET_EXEC = 2, ET_DYN = 3;
const ET_NAMES: Record<number, string> = { 0: 'NONE', 1: 'REL', 2: 'EXEC', 3: 'DYN', 4: 'CORE' };

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
/** the largest section read whole; kernel .symtab/.strtab/.BTF are a few MB */
const MAX_SECTION = 512 * 1024 * 1024;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly entsize: number;
}

export interface ElfHeader {
  readonly littleEndian: boolean;
  /** e_type: ET_REL (a module .ko), ET_EXEC (vmlinux), ET_DYN ... */
  readonly type: number;
  readonly machine: number;
}

/** An open ELF64 file; call close() (or use withElf). */
export class ElfFile {
  readonly header: ElfHeader;
  readonly sections: readonly ElfSection[];
  readonly #fd: number;
  readonly #fileSize: number;

  private constructor(readonly path: string, fd: number) {
    this.#fd = fd;
    this.#fileSize = fstatSync(fd).size;
    const eh = this.#read(0, EHDR_SIZE, 'ELF header');
    if (eh.readUInt32BE(0) !== 0x7f454c46) throw new ElfFormatError(`${path}: not an ELF file (magic ${eh.subarray(0, 4).toString('hex')})`);
    if (eh[4] !== 2) throw new ElfFormatError(`${path}: ELF class ${eh[4]}, only ELF64 is supported`);
    if (eh[5] !== 1 && eh[5] !== 2) throw new ElfFormatError(`${path}: unknown ELF data encoding ${eh[5]}`);
    const le = eh[5] === 1;
    const u16 = (o: number): number => (le ? eh.readUInt16LE(o) : eh.readUInt16BE(o));
    const u64 = (o: number): number => num(le ? eh.readBigUInt64LE(o) : eh.readBigUInt64BE(o), `${path}: ELF header field at ${o}`);
    this.header = { littleEndian: le, type: u16(16), machine: u16(18) };
    const shoff = u64(40);
    const shentsize = u16(58);
    let shnum = u16(60);
    let shstrndx = u16(62);
    if (shoff === 0) throw new ElfFormatError(`${path}: no section headers (e_shoff 0)`);
    if (shentsize < SHDR_SIZE) throw new ElfFormatError(`${path}: section header size ${shentsize}, want ${SHDR_SIZE}`);
    // With 0xff00 or more sections the real count and string-table index live in section 0.
    const first = this.#parseShdr(this.#read(shoff, SHDR_SIZE, 'section header 0'), 0, '');
    if (shnum === 0) shnum = first.size;
    if (shstrndx === SHN_XINDEX) shstrndx = first.link;
    if (shnum > 1_000_000) throw new ElfFormatError(`${path}: ${shnum} section headers is not plausible`);
    const table = this.#read(shoff, shnum * shentsize, `${shnum} section headers`);
    const raw = Array.from({ length: shnum }, (_, i) => this.#parseShdr(table.subarray(i * shentsize, i * shentsize + SHDR_SIZE), i, ''));
    if (shstrndx >= shnum || shstrndx === 0 || shstrndx >= SHN_LORESERVE) throw new ElfFormatError(`${path}: section name table index ${shstrndx} out of range (${shnum} sections)`);
    const names = this.read(raw[shstrndx], 'section name table');
    this.sections = raw.map((s) => ({ ...s, name: cString(names, s.nameOff) }));
  }

  /** Open and validate the header and section table; throws ElfFormatError (or the fs error). */
  static open(path: string): ElfFile {
    const fd = openSync(path, 'r');
    try {
      return new ElfFile(path, fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get fileSize(): number { return this.#fileSize; }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** a section's bytes (checked to lie inside the file) */
  read(s: ElfSection, what = `section ${s.name}`): Buffer {
    if (s.type === SHT_NOBITS) throw new ElfFormatError(`${this.path}: ${what} has no bytes in the file (NOBITS)`);
    if (s.size > MAX_SECTION) throw new ElfFormatError(`${this.path}: ${what} is ${s.size} bytes, more than the ${MAX_SECTION} read whole`);
    return this.#read(s.offset, s.size, what);
  }

  close(): void { closeSync(this.#fd); }

  #read(offset: number, len: number, what: string): Buffer {
    if (offset < 0 || len < 0 || offset + len > this.#fileSize) {
      throw new ElfFormatError(`${this.path}: truncated or corrupt: ${what} at ${offset}+${len} lies past the end of the ${this.#fileSize}-byte file`);
    }
    const buf = Buffer.alloc(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.#fd, buf, done, len - done, offset + done);
      if (n === 0) throw new ElfFormatError(`${this.path}: short read of ${what} at ${offset + done}`);
      done += n;
    }
    return buf;
  }

  #parseShdr(b: Buffer, index: number, name: string): ElfSection & { nameOff: number } {
    const le = this.header.littleEndian;
    const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u64 = (o: number): bigint => (le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
    const where = `${this.path}: section header ${index}`;
    return {
      index, name, nameOff: u32(0), type: u32(4), flags: u64(8), addr: u64(16),
      offset: num(u64(24), `${where} offset`), size: num(u64(32), `${where} size`),
      link: u32(40), info: u32(44), entsize: num(u64(56), `${where} entsize`),
    };
  }
}

/** run `fn` on the open file and close it whatever happens */
export function withElf<T>(path: string, fn: (elf: ElfFile) => T): T {
  const elf = ElfFile.open(path);
  try { return fn(elf); } finally { elf.close(); }
}

/** whether the file starts with the ELF magic (false for a short or unreadable file) */
export function isElfFile(path: string): boolean {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return false; }
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32BE(0) === 0x7f454c46;
  } finally { closeSync(fd); }
}

export function elfTypeName(type: number): string { return ET_NAMES[type] ?? `0x${type.toString(16)}`; }

/**
 * BTF bytes from a file that is either raw BTF or an ELF object with a .BTF section (a vmlinux,
 * or a module .ko, whose BTF is split against vmlinux's).
 */
export function readBtfFile(path: string): { bytes: Buffer; from: string } {
  if (!isElfFile(path)) return { bytes: readFileSync(path), from: `BTF file ${path}` };
  return withElf(path, (elf) => {
    const s = elf.section('.BTF');
    if (!s) throw new ElfFormatError(`${path}: an ELF file without a .BTF section (a kernel built without CONFIG_DEBUG_INFO_BTF?)`);
    return { bytes: elf.read(s), from: `BTF section of ${path} (${s.size} bytes)` };
  });
}

function num(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfFormatError(`${what} 0x${v.toString(16)} is not a plausible file offset or size`);
  return Number(v);
}

/** NUL-terminated string at `off` of a string table ('' when out of range) */
export function cString(tab: Buffer, off: number): string {
  if (off >= tab.length) return '';
  const end = tab.indexOf(0, off);
  return tab.toString('latin1', off, end < 0 ? tab.length : end);
}
