/**
 * The raw BTF format: header layout, kind numbers, per-kind record sizes, header validation, and
 * locating a BTF blob inside a larger buffer (kernel rodata read out of a dump).
 */
import { BtfError } from './errors.js';

export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
/** the header as first defined; hdr_len may be larger for newer fields */
export const BTF_MIN_HEADER = 24;
/** every type record starts with name_off, info, size/type */
export const BTF_TYPE_HEADER = 12;

/** Kind numbers (bits 24-28 of a record's info word). A plain object, not an enum: per-file transpilers keep it. */
export const BtfKind = {
  UNKN: 0, INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8,
  VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15,
  FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;
export const BTF_MAX_KIND = 19;

export const BTF_KIND_NAMES: readonly string[] = [
  'UNKN', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE', 'CONST',
  'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64',
];

/** INT encoding bits (high byte of the trailing u32) */
export const BTF_INT_SIGNED = 1, BTF_INT_CHAR = 2, BTF_INT_BOOL = 4;

/** Bytes that follow the 12-byte record header for a kind with `vlen` entries; -1 for an unknown kind. */
export function trailingBytes(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.INT: case BtfKind.VAR: case BtfKind.DECL_TAG: return 4;
    case BtfKind.ARRAY: return 12;
    case BtfKind.STRUCT: case BtfKind.UNION: case BtfKind.DATASEC: case BtfKind.ENUM64: return 12 * vlen;
    case BtfKind.ENUM: case BtfKind.FUNC_PROTO: return 8 * vlen;
    case BtfKind.PTR: case BtfKind.FWD: case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST:
    case BtfKind.RESTRICT: case BtfKind.FUNC: case BtfKind.FLOAT: case BtfKind.TYPE_TAG: return 0;
    default: return -1;
  }
}

export interface BtfHeader {
  readonly littleEndian: boolean;
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  /** section offsets are from the end of the header */
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
  /** bytes the blob spans from its start: header plus both sections */
  readonly totalLen: number;
}

/**
 * Read and validate the header of a BTF blob starting at `at`: magic (either byte order), version,
 * and that both sections lie inside the buffer, aligned and apart. Throws BtfError saying which check failed.
 */
export function readBtfHeader(buf: Uint8Array, at = 0, label = 'BTF'): BtfHeader {
  const avail = buf.length - at;
  if (at < 0 || avail < BTF_MIN_HEADER) throw new BtfError(`truncated: ${Math.max(avail, 0)} bytes, a BTF header needs ${BTF_MIN_HEADER}`, label);
  const view = new DataView(buf.buffer, buf.byteOffset + at, avail);
  let le: boolean;
  if (view.getUint16(0, true) === BTF_MAGIC) le = true;
  else if (view.getUint16(0, false) === BTF_MAGIC) le = false;
  else throw new BtfError(`bad magic 0x${view.getUint16(0, true).toString(16).padStart(4, '0')} (want 0x${BTF_MAGIC.toString(16)})`, label);
  const version = view.getUint8(2);
  if (version !== BTF_VERSION) throw new BtfError(`unsupported BTF version ${version}`, label);
  const flags = view.getUint8(3);
  const hdrLen = view.getUint32(4, le);
  if (hdrLen < BTF_MIN_HEADER) throw new BtfError(`header length ${hdrLen} is below the minimum ${BTF_MIN_HEADER}`, label);
  if (hdrLen > avail) throw new BtfError(`header length ${hdrLen} runs past the end of ${avail} bytes`, label);
  const typeOff = view.getUint32(8, le), typeLen = view.getUint32(12, le);
  const strOff = view.getUint32(16, le), strLen = view.getUint32(20, le);
  const dataLen = avail - hdrLen;
  if (typeOff + typeLen > dataLen) throw new BtfError(`type section ${typeOff}+${typeLen} runs past the end of ${dataLen} data bytes`, label);
  if (strOff + strLen > dataLen) throw new BtfError(`string section ${strOff}+${strLen} runs past the end of ${dataLen} data bytes`, label);
  if (typeOff % 4 !== 0 || typeLen % 4 !== 0) throw new BtfError(`type section ${typeOff}+${typeLen} is not 4-byte aligned`, label);
  if (typeOff < strOff + strLen && strOff < typeOff + typeLen) throw new BtfError(`type section ${typeOff}+${typeLen} overlaps string section ${strOff}+${strLen}`, label);
  const totalLen = hdrLen + Math.max(typeOff + typeLen, strOff + strLen);
  return { littleEndian: le, version, flags, hdrLen, typeOff, typeLen, strOff, strLen, totalLen };
}

export interface BtfLocation {
  /** where the blob starts in the searched buffer */
  readonly offset: number;
  /** its length: pass buf.subarray(offset, offset + length) to the parser */
  readonly length: number;
  readonly header: BtfHeader;
}

/** Headers longer than this are not a BTF we know; it rejects random bytes that happen to match the magic. */
const MAX_PLAUSIBLE_HDR = 256;

/**
 * Find a BTF blob by its header inside a larger buffer (e.g. rodata from a dump, or a whole
 * vmlinux): the first magic whose header validates and whose string section is NUL-delimited.
 */
export function findBtfInBuffer(buf: Uint8Array, from = 0): BtfLocation | null {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const needles = [Buffer.from([0x9f, 0xeb, BTF_VERSION]), Buffer.from([0xeb, 0x9f, BTF_VERSION])];
  const next = needles.map((n) => b.indexOf(n, from));
  while (next.some((p) => p >= 0)) {
    const i = next[0] >= 0 && (next[1] < 0 || next[0] < next[1]) ? 0 : 1;
    const at = next[i];
    const header = plausibleHeader(b, at, i === 0);
    if (header) return { offset: at, length: header.totalLen, header };
    next[i] = b.indexOf(needles[i], at + 1);
  }
  return null;
}

function plausibleHeader(b: Buffer, at: number, le: boolean): BtfHeader | null {
  let h: BtfHeader;
  try {
    h = readBtfHeader(b, at);
  } catch {
    return null;
  }
  if (h.littleEndian !== le || h.hdrLen > MAX_PLAUSIBLE_HDR || h.strLen === 0) return null;
  const str = at + h.hdrLen + h.strOff;
  if (b[str] !== 0 || b[str + h.strLen - 1] !== 0) return null;
  if (h.typeLen >= BTF_TYPE_HEADER) {
    const info = le ? b.readUInt32LE(at + h.hdrLen + h.typeOff + 4) : b.readUInt32BE(at + h.hdrLen + h.typeOff + 4);
    const kind = (info >>> 24) & 0x1f;
    if (kind === BtfKind.UNKN || kind > BTF_MAX_KIND) return null;
  }
  return h;
}
