/**
 * A vmlinux's own ELF symbol table (.symtab/.strtab) as a symbol source. It holds what the build's
 * System.map holds (System.map is `nm -n vmlinux` filtered by scripts/mksysmap), so the same
 * filter and the same nm letters are applied here, and addresses get the same treatment as a
 * System.map's: link-time, so the dump's KASLR slide (VMCOREINFO KERNELOFFSET) is added to every
 * kernel-image address, while per-CPU offsets and absolute symbols stay as they are.
 */
import { statSync } from 'node:fs';
import { readCache, writeCache } from '../cache/build-id-cache.js';
import { VaatError } from '../dump/errors.js';
import {
  elfTypeName, ET_DYN, ET_EXEC, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, SHT_STRTAB, SHT_SYMTAB,
  SHT_NOTE, withElf, type ElfFile, type ElfSection,
} from '../elf/sections.js';
import { SortedSymbolTable } from './symtab.js';

export class ElfSymtabError extends VaatError {}

export interface ElfSymbolOptions {
  /** KASLR slide to add (VMCOREINFO KERNELOFFSET) */
  kernelOffset: bigint;
  /** name for the source string (default: the path) */
  label?: string;
  /** slide absolute symbols in the kernel half too (arm64's PIE kernel: see SystemMapOptions) */
  relocateAbsolute?: boolean;
}

/** a vmlinux's symbols at link-time addresses, sorted by address (aliases in .symtab order) */
export interface LinkTimeSymbols {
  readonly names: readonly string[];
  readonly types: readonly string[];
  readonly link: BigUint64Array;
  /** Elf64_Sym entries read, before the System.map filter */
  readonly read: number;
}

const SYM_SIZE = 24; // Elf64_Sym
const STT_OBJECT = 1, STT_SECTION = 3, STT_FILE = 4;
const STB_GLOBAL = 1, STB_WEAK = 2, STB_GNU_UNIQUE = 10;
const SHN_UNDEF = 0, SHN_LORESERVE = 0xff00, SHN_ABS = 0xfff1, SHN_COMMON = 0xfff2;
/** as in systemmap.ts: at or above, a kernel-image (relocatable) address; below, per-CPU offsets and absolutes */
const KERNEL_HALF = 0x8000000000000000n;

/** nm's letter for symbols of a section, by its flags: executable → t, NOBITS → b, read-only → r, writable → d, not loaded → n */
export function sectionLetter(s: Pick<ElfSection, 'flags' | 'type'>): string {
  const f = s.flags;
  if ((f & BigInt(SHF_ALLOC)) === 0n) return 'n';
  if (f & BigInt(SHF_EXECINSTR)) return 't';
  if (s.type === SHT_NOBITS) return 'b';
  return (f & BigInt(SHF_WRITE)) === 0n ? 'r' : 'd';
}

/**
 * The nm letter of a defined symbol, from its binding, type and section (`letters`: sectionLetter
 * per section index), as binutils' nm prints it for a vmlinux. The kernel's .rodata is linked
 * writable, and nm calls its symbols d too. null: not a symbol nm prints (section, file, undefined).
 */
export function nmLetter(info: number, shndx: number, letters: readonly string[]): string | null {
  const type = info & 0xf;
  const bind = info >> 4;
  if (type === STT_SECTION || type === STT_FILE || shndx === SHN_UNDEF) return null;
  let c: string;
  if (shndx === SHN_ABS) c = 'a';
  else if (shndx === SHN_COMMON) c = 'c';
  else if (shndx >= SHN_LORESERVE) c = '?'; // SHN_XINDEX and processor-specific: no vmlinux has them
  else c = letters[shndx] ?? '?';
  if (bind === STB_WEAK && c !== 'a') return type === STT_OBJECT ? 'V' : 'W';
  if (bind === STB_GNU_UNIQUE) return 'u';
  return bind === STB_GLOBAL ? c.toUpperCase() : c;
}

/** scripts/mksysmap's filter: what a System.map leaves out of `nm -n vmlinux` */
function inSystemMap(name: string, letter: string): boolean {
  if (letter === 'a' || letter === 'n' || name === '') return false;
  if (name.startsWith('$') || name.startsWith('.L') || name === 'L0') return false; // mapping symbols, local labels
  return !name.startsWith('__crc_') && !name.startsWith('__kstrtab_') && !name.startsWith('__kstrtabns_');
}

/** Read the symbol table of an ELF file (any type); throws ElfSymtabError/ElfFormatError with the path. */
export function readSymtab(elf: ElfFile): LinkTimeSymbols {
  const path = elf.path;
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) throw new ElfSymtabError(`${path}: no .symtab section (a stripped file?)`);
  const strSec = elf.sections[symtab.link];
  if (!strSec || strSec.type !== SHT_STRTAB) throw new ElfSymtabError(`${path}: ${symtab.name} links to section ${symtab.link}, not a string table`);
  if ((symtab.entsize !== 0 && symtab.entsize !== SYM_SIZE) || symtab.size % SYM_SIZE !== 0) {
    throw new ElfSymtabError(`${path}: ${symtab.name} has ${symtab.size} bytes in entries of ${symtab.entsize}, not Elf64_Sym (${SYM_SIZE})`);
  }
  const syms = elf.read(symtab);
  // one string for the whole table: slicing it is much cheaper than decoding ~100k small buffers
  const strs = elf.read(strSec).toString('latin1');
  const letters = elf.sections.map(sectionLetter);
  const le = elf.header.littleEndian;
  const n = syms.length / SYM_SIZE;
  const names: string[] = [];
  const types: string[] = [];
  // addresses as (hi, lo) u32 pairs: comparing numbers sorts ~90k symbols far faster than bigints
  const hi: number[] = [];
  const lo: number[] = [];
  for (let i = 1; i < n; i++) { // entry 0 is the reserved null symbol
    const o = i * SYM_SIZE;
    const nameOff = le ? syms.readUInt32LE(o) : syms.readUInt32BE(o);
    if (nameOff >= strs.length) throw new ElfSymtabError(`${path}: symbol ${i} names string offset ${nameOff}, past the ${strs.length}-byte ${strSec.name}`);
    const shndx = le ? syms.readUInt16LE(o + 6) : syms.readUInt16BE(o + 6);
    const letter = nmLetter(syms[o + 4], shndx, letters);
    if (letter === null) continue;
    const end = strs.indexOf('\0', nameOff);
    const name = strs.slice(nameOff, end < 0 ? strs.length : end);
    if (!inSystemMap(name, letter)) continue;
    names.push(name);
    types.push(letter);
    hi.push(le ? syms.readUInt32LE(o + 12) : syms.readUInt32BE(o + 8));
    lo.push(le ? syms.readUInt32LE(o + 8) : syms.readUInt32BE(o + 12));
  }
  // .symtab lists locals first; sort once here so every dump's relocated copy arrives sorted
  // (adding the slide to the kernel half keeps the order: it never crosses into the low half).
  const order = Array.from(names.keys()).sort((a, b) => hi[a] - hi[b] || lo[a] - lo[b] || a - b);
  const link = new BigUint64Array(order.length);
  const words = new Uint32Array(link.buffer);
  const hostLE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  order.forEach((k, i) => {
    words[2 * i + (hostLE ? 1 : 0)] = hi[k];
    words[2 * i + (hostLE ? 0 : 1)] = lo[k];
  });
  return { names: order.map((k) => names[k]), types: order.map((k) => types[k]), link, read: n - 1 };
}

/** parsed symtabs by path, size and mtime: a fleet run opens many dumps of one kernel */
const parsed = new Map<string, LinkTimeSymbols>();

/** drop the per-process memo (tests of the disk cache) */
export function forgetParsedSymtabs(): void { parsed.clear(); }

/**
 * A vmlinux's symbols (link-time), parsed once per process and cached on disk per build-id (the
 * parse costs ~100-200 ms, paid on every CLI run where a debug vmlinux is found); refuses files
 * that are not a kernel image.
 */
export function readVmlinuxSymbols(path: string): LinkTimeSymbols {
  const st = statSync(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  const seen = parsed.get(key);
  if (seen) return seen;
  const out = withElf(path, (elf) => {
    if (elf.header.type !== ET_EXEC && !isPieKernel(elf)) {
      const what = elf.header.type === 1 ? 'a kernel module or object file' : 'a program or shared library';
      throw new ElfSymtabError(`${path}: not a vmlinux: ELF type ${elfTypeName(elf.header.type)} (${what}), a kernel image is EXEC`);
    }
    const id = gnuBuildId(elf);
    const hit = id ? readCache(CACHE_KIND, id, CACHE_VERSION) : null;
    const cached = hit?.data ? decodeCached(hit.data) : null;
    if (cached) return cached;
    const fresh = readSymtab(elf);
    if (id) try { writeCache(CACHE_KIND, id, CACHE_VERSION, encodeCached(fresh)); } catch { /* a read-only cache directory only costs speed */ }
    return fresh;
  });
  if (out.names.length === 0) throw new ElfSymtabError(`${path}: no symbols in .symtab`);
  parsed.set(key, out);
  return out;
}

/** A vmlinux's symbol table for one dump: the KASLR slide applied as for a System.map. */
export function loadElfSymbols(path: string, opts: ElfSymbolOptions): SortedSymbolTable {
  const s = readVmlinuxSymbols(path);
  const n = s.names.length;
  const addresses = new BigUint64Array(n);
  const slide = opts.kernelOffset;
  for (let i = 0; i < n; i++) {
    const link = s.link[i];
    const t = s.types[i];
    addresses[i] = link >= KERNEL_HALF && (opts.relocateAbsolute || (t !== 'A' && t !== 'a')) ? link + slide : link; // BigUint64Array wraps mod 2^64
  }
  const off = slide === 0n ? '' : ` +0x${slide.toString(16)}`;
  return new SortedSymbolTable(`vmlinux .symtab (${opts.label ?? path}${off})`, { names: s.names, types: s.types, addresses }, { sizes: 'next' });
}

const EM_AARCH64 = 183;

/**
 * arm64 links a relocatable kernel as a position-independent executable (ET_DYN, `-shared
 * -Bsymbolic`, arch/arm64/Makefile): an aarch64 DYN with the kernel's `.head.text` is a vmlinux.
 */
function isPieKernel(elf: ElfFile): boolean {
  return elf.header.type === ET_DYN && elf.header.machine === EM_AARCH64 && elf.sections.some((s) => s.name === '.head.text');
}

const CACHE_KIND = 'vmlinux-symtab';
/** bump when the payload layout changes */
const CACHE_VERSION = 1;
const NT_GNU_BUILD_ID = 3;

/** the file's GNU build-id note (hex), from any SHT_NOTE section (a vmlinux has it in .notes) */
export function gnuBuildId(elf: ElfFile): string | null {
  const le = elf.header.littleEndian;
  for (const s of elf.sections) {
    if (s.type !== SHT_NOTE || s.size > 1 << 20) continue;
    const b = elf.read(s);
    for (let o = 0; o + 12 <= b.length;) {
      const namesz = le ? b.readUInt32LE(o) : b.readUInt32BE(o);
      const descsz = le ? b.readUInt32LE(o + 4) : b.readUInt32BE(o + 4);
      const type = le ? b.readUInt32LE(o + 8) : b.readUInt32BE(o + 8);
      const name = o + 12, desc = name + align4(namesz), next = desc + align4(descsz);
      if (next > b.length) break;
      if (type === NT_GNU_BUILD_ID && b.toString('latin1', name, name + namesz) === 'GNU\0' && descsz > 0) return b.toString('hex', desc, desc + descsz);
      o = next;
    }
  }
  return null;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** [u32 count][u32 names length][u32 entries read][names, NUL-separated][types, one byte each][pad to 8][u64 link addresses] */
function encodeCached(s: LinkTimeSymbols): Buffer {
  const names = Buffer.from(s.names.join('\0'), 'latin1');
  const head = 12 + names.length + s.types.length;
  const pad = (8 - (head % 8)) % 8;
  const out = Buffer.alloc(head + pad + s.link.byteLength);
  out.writeUInt32LE(s.names.length, 0);
  out.writeUInt32LE(names.length, 4);
  out.writeUInt32LE(s.read, 8);
  names.copy(out, 12);
  out.write(s.types.join(''), 12 + names.length, 'latin1');
  Buffer.from(s.link.buffer, s.link.byteOffset, s.link.byteLength).copy(out, head + pad);
  return out;
}

/** null when the payload does not hold together (then the symtab is parsed afresh) */
function decodeCached(b: Buffer): LinkTimeSymbols | null {
  if (b.length < 12) return null;
  const n = b.readUInt32LE(0), namesLen = b.readUInt32LE(4), read = b.readUInt32LE(8);
  const head = 12 + namesLen + n;
  const start = head + ((8 - (head % 8)) % 8);
  if (n === 0 || start + n * 8 !== b.length) return null;
  const names = b.toString('latin1', 12, 12 + namesLen).split('\0');
  if (names.length !== n) return null;
  const types = b.toString('latin1', 12 + namesLen, head).split('');
  const link = new BigUint64Array(n);
  Buffer.from(link.buffer).set(b.subarray(start, start + n * 8));
  return { names, types, link, read };
}
