/**
 * BTF as a TypeInfo. Loading walks the type section once, keeping only each record's offset and
 * kind in typed arrays; a type is decoded when first asked for, and the name, enumerator and
 * symbol indexes are built on first use. Every offset, length and type id read from the data is
 * checked, so corrupt BTF raises BtfError rather than reading out of range or answering wrongly.
 *
 * Split BTF (kernel modules) continues a base's type ids and string offsets: pass `base`.
 */
import {
  BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, BTF_KIND_NAMES, BTF_MAX_KIND, BTF_TYPE_HEADER, BtfKind,
  readBtfHeader, trailingBytes, type BtfHeader,
} from './btf-format.js';
import { BtfError, TypeLookupError } from './errors.js';
import { canonicalBaseName, nameKey } from './names.js';
import { DERIVED_TYPE_BASE, TypeSource } from './type-source.js';
import type {
  Enumerator, EnumeratorRef, FunctionSymbol, Member, Parameter, TypeDesc, TypeId, VariableSymbol,
} from './typeinfo.js';

export interface BtfOptions {
  /** the BTF this one is split from (vmlinux, for a module's .BTF) */
  readonly base?: BtfTypes;
  /** names the data in error messages (a path, `vmcore __start_BTF`...) */
  readonly label?: string;
  /** bytes per pointer; default: the size of `long` in this BTF, else 8 */
  readonly pointerSize?: number;
}

const LINKAGE = ['static', 'global', 'extern'] as const;
type Linkage = (typeof LINKAGE)[number];

/** Typedef chains this long only come from a loop in corrupt data. */
const MAX_CHAIN = 64;

export class BtfTypes extends TypeSource {
  readonly source = 'btf';
  readonly header: BtfHeader;
  readonly label: string;
  readonly base: BtfTypes | null;
  /** first id defined here: 1 for base BTF (0 is void), the base's typeCount for split BTF */
  readonly firstId: number;
  /** one past the highest valid id, counting the base's types */
  readonly typeCount: number;

  readonly #view: DataView;
  readonly #le: boolean;
  /** absolute buffer offset of each local type record */
  readonly #offsets: Uint32Array;
  readonly #kinds: Uint8Array;
  readonly #strStart: number;
  readonly #strLen: number;
  /** the string section decoded once (latin1 keeps byte offsets = string offsets) */
  #strings: string | null = null;
  readonly #descs: (TypeDesc | undefined)[];
  #pointerSize: number | null;
  /** strings hold only ASCII, so no slice needs re-decoding as UTF-8 */
  #asciiStrings = false;
  #names: Map<string, TypeId> | null = null;
  /** FUNC and VAR by name: built apart from #names, vmlinux has some 40k FUNCs few lookups need */
  #symbols: { funcs: Map<string, TypeId>; vars: Map<string, TypeId> } | null = null;
  #enumerators: Map<string, TypeId> | null = null;
  /** VAR id → its DATASEC name and offset */
  #varSections: Map<TypeId, { section: string; offset: number }> | null = null;
  /** an index that failed to build on corrupt data: every later lookup fails the same way at once, not after another full scan */
  #indexFailures = new Map<string, unknown>();

  constructor(buf: Uint8Array, opts: BtfOptions = {}) {
    super();
    this.label = opts.label ?? 'BTF';
    this.base = opts.base ?? null;
    this.#pointerSize = opts.pointerSize ?? null;
    const h = (this.header = readBtfHeader(buf, 0, this.label));
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#le = h.littleEndian;
    if (this.base && this.base.#le !== this.#le) throw new BtfError('split BTF and its base differ in byte order', this.label);

    this.#strStart = h.hdrLen + h.strOff;
    this.#strLen = h.strLen;
    if (h.strLen === 0 || this.#view.getUint8(this.#strStart + h.strLen - 1) !== 0) throw new BtfError('string section is empty or not NUL-terminated', this.label);
    if (!this.base && this.#view.getUint8(this.#strStart) !== 0) throw new BtfError('string section does not start with an empty string', this.label);

    this.firstId = this.base ? this.base.typeCount : 1;
    const { offsets, kinds } = this.#scan(h.hdrLen + h.typeOff, h.typeLen);
    this.#offsets = offsets;
    this.#kinds = kinds;
    this.typeCount = this.firstId + offsets.length;
    this.#descs = new Array<TypeDesc | undefined>(offsets.length);
  }

  get pointerSize(): number {
    if (this.#pointerSize === null) {
      if (this.base) return (this.#pointerSize = this.base.pointerSize);
      const long = this.lookupName('long');
      const t = long === null ? null : this.describe(long);
      this.#pointerSize = t?.kind === 'int' ? t.size : 8;
    }
    return this.#pointerSize;
  }

  /** BTF kind name of an id (`STRUCT`, `FUNC`, `DATASEC`...), for BTF-aware callers and tests. */
  kindOf(id: TypeId): string {
    if (id === 0) return 'UNKN';
    if (id < this.firstId) return this.#baseOrThrow(id).kindOf(id);
    return BTF_KIND_NAMES[this.#kinds[this.#local(id)]];
  }

  describe(id: TypeId): TypeDesc {
    if (id >= DERIVED_TYPE_BASE) {
      const d = this.derivedType(id) ?? this.base?.derivedType(id);
      if (d) return d;
    }
    if (id < this.firstId) {
      if (id === 0 && !this.base) return VOID;
      return this.#baseOrThrow(id).describe(id);
    }
    const i = this.#local(id);
    let d = this.#descs[i];
    if (d === undefined) this.#descs[i] = d = this.#decode(id, i);
    return d;
  }

  findEnumerator(name: string): EnumeratorRef | null {
    this.#enumerators ??= this.#once('enumerators', () => this.#indexEnumerators());
    const id = this.#enumerators.get(name);
    if (id !== undefined) {
      const t = this.describe(id);
      const e = t.kind === 'enum' ? t.enumerators.find((x) => x.name === name) : undefined;
      if (e) return { ...e, enumType: id };
    }
    return this.base?.findEnumerator(name) ?? null;
  }

  findFunction(name: string): FunctionSymbol | null {
    const id = this.#symbolIndex().funcs.get(name);
    if (id === undefined) return this.base?.findFunction(name) ?? null;
    const pos = this.#offsets[this.#local(id)];
    const info = this.#u32(pos + 4);
    return { name, type: this.#proto(this.#ref(this.#u32(pos + 8), id), id), linkage: this.#linkage(info & 0xffff, id) };
  }

  findVariable(name: string): VariableSymbol | null {
    const id = this.#symbolIndex().vars.get(name);
    if (id === undefined) return this.base?.findVariable(name) ?? null;
    const pos = this.#offsets[this.#local(id)];
    this.#varSections ??= this.#once('datasecs', () => this.#indexDatasecs());
    const sec = this.#varSections.get(id);
    return {
      name,
      type: this.#ref(this.#u32(pos + 8), id),
      linkage: this.#linkage(this.#u32(pos + 12), id),
      section: sec?.section ?? null,
      sectionOffset: sec?.offset ?? null,
    };
  }

  protected lookupName(key: string): TypeId | null {
    if (key === 'void' && !this.base) return 0;
    this.#names ??= this.#once('names', () => this.#indexNames());
    const own = this.#names.get(key);
    if (own === undefined) return this.base?.lookupName(key) ?? null;
    // A module may only forward-declare what vmlinux defines.
    if (this.base && this.#isFwd(own)) return this.base.lookupName(key) ?? own;
    return own;
  }

  // ---- loading -------------------------------------------------------------------------------

  /** One pass over the type section: record offset and kind per type, check every record fits. */
  #scan(start: number, len: number): { offsets: Uint32Array; kinds: Uint8Array } {
    const end = start + len;
    // Records are at least 12 bytes: this bounds the count without a second pass.
    let offsets = new Uint32Array(Math.min(Math.floor(len / BTF_TYPE_HEADER), 1 << 16));
    let kinds = new Uint8Array(offsets.length);
    let n = 0;
    for (let pos = start; pos < end; ) {
      const id = this.firstId + n;
      if (end - pos < BTF_TYPE_HEADER) throw this.#corrupt(id, `record header at type-section offset ${pos - start} runs past the section end`);
      const info = this.#u32(pos + 4);
      const kind = (info >>> 24) & 0x1f;
      const extra = kind === BtfKind.UNKN || kind > BTF_MAX_KIND ? -1 : trailingBytes(kind, info & 0xffff);
      if (extra < 0) throw this.#corrupt(id, `unknown kind ${kind} at type-section offset ${pos - start}`);
      if (pos + BTF_TYPE_HEADER + extra > end) throw this.#corrupt(id, `${BTF_KIND_NAMES[kind]} record (${BTF_TYPE_HEADER + extra} bytes) runs past the type section end`);
      if (n === offsets.length) {
        const bigger = new Uint32Array(Math.min(offsets.length * 2, Math.floor(len / BTF_TYPE_HEADER)));
        bigger.set(offsets);
        offsets = bigger;
        const biggerKinds = new Uint8Array(bigger.length);
        biggerKinds.set(kinds);
        kinds = biggerKinds;
      }
      offsets[n] = pos;
      kinds[n] = kind;
      n++;
      pos += BTF_TYPE_HEADER + extra;
    }
    return { offsets: offsets.slice(0, n), kinds: kinds.slice(0, n) };
  }

  /** Name index over struct/union/enum tags, typedefs and base types; a definition beats a FWD. */
  #indexNames(): Map<string, TypeId> {
    const names = new Map<string, TypeId>();
    for (let i = 0; i < this.#offsets.length; i++) {
      const kind = this.#kinds[i];
      let tag: 'struct' | 'union' | 'enum' | null = null;
      switch (kind) {
        case BtfKind.STRUCT: tag = 'struct'; break;
        case BtfKind.UNION: tag = 'union'; break;
        case BtfKind.ENUM: case BtfKind.ENUM64: tag = 'enum'; break;
        case BtfKind.FWD: tag = this.#u32(this.#offsets[i] + 4) >>> 31 ? 'union' : 'struct'; break;
        case BtfKind.TYPEDEF: case BtfKind.INT: case BtfKind.FLOAT: break;
        default: continue;
      }
      const nameOff = this.#u32(this.#offsets[i]);
      if (nameOff === 0) continue;
      const id = this.firstId + i;
      const name = this.#str(nameOff, id);
      const key = tag ? nameKey(tag, name) : kind === BtfKind.TYPEDEF ? name : canonicalBaseName(name);
      const prev = names.get(key);
      if (prev === undefined || (this.#isFwd(prev) && !this.#isFwd(id))) names.set(key, id);
    }
    return names;
  }

  #symbolIndex(): { funcs: Map<string, TypeId>; vars: Map<string, TypeId> } {
    if (this.#symbols) return this.#symbols;
    const failed = this.#indexFailures.get('symbols');
    if (failed) throw failed;
    try { return this.#buildSymbolIndex(); } catch (e) { this.#indexFailures.set('symbols', e); throw e; }
  }

  #once<T>(key: string, build: () => T): T {
    const failed = this.#indexFailures.get(key);
    if (failed) throw failed;
    try { return build(); } catch (e) { this.#indexFailures.set(key, e); throw e; }
  }

  #buildSymbolIndex(): { funcs: Map<string, TypeId>; vars: Map<string, TypeId> } {
    const funcs = new Map<string, TypeId>();
    const vars = new Map<string, TypeId>();
    for (let i = 0; i < this.#offsets.length; i++) {
      const kind = this.#kinds[i];
      if (kind !== BtfKind.FUNC && kind !== BtfKind.VAR) continue;
      const id = this.firstId + i;
      addFirst(kind === BtfKind.FUNC ? funcs : vars, this.#str(this.#u32(this.#offsets[i]), id), id);
    }
    return (this.#symbols = { funcs, vars });
  }

  #indexEnumerators(): Map<string, TypeId> {
    const out = new Map<string, TypeId>();
    for (let i = 0; i < this.#offsets.length; i++) {
      const kind = this.#kinds[i];
      if (kind !== BtfKind.ENUM && kind !== BtfKind.ENUM64) continue;
      const pos = this.#offsets[i];
      const vlen = this.#u32(pos + 4) & 0xffff;
      const stride = kind === BtfKind.ENUM ? 8 : 12;
      const id = this.firstId + i;
      for (let k = 0; k < vlen; k++) addFirst(out, this.#str(this.#u32(pos + BTF_TYPE_HEADER + k * stride), id), id);
    }
    return out;
  }

  #indexDatasecs(): Map<TypeId, { section: string; offset: number }> {
    const out = new Map<TypeId, { section: string; offset: number }>();
    for (let i = 0; i < this.#offsets.length; i++) {
      if (this.#kinds[i] !== BtfKind.DATASEC) continue;
      const pos = this.#offsets[i];
      const id = this.firstId + i;
      const section = this.#str(this.#u32(pos), id);
      const vlen = this.#u32(pos + 4) & 0xffff;
      for (let k = 0; k < vlen; k++) {
        const e = pos + BTF_TYPE_HEADER + k * 12;
        const v = this.#ref(this.#u32(e), id);
        if (!out.has(v)) out.set(v, { section, offset: this.#u32(e + 4) });
      }
    }
    return out;
  }

  // ---- decoding one type ---------------------------------------------------------------------

  #decode(id: TypeId, i: number): TypeDesc {
    const pos = this.#offsets[i];
    const kind = this.#kinds[i];
    const nameOff = this.#u32(pos);
    const info = this.#u32(pos + 4);
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const sizeOrType = this.#u32(pos + 8);
    const name = nameOff === 0 ? null : this.#str(nameOff, id);
    const body = pos + BTF_TYPE_HEADER;

    switch (kind) {
      case BtfKind.INT: {
        const enc = this.#u32(body);
        const encoding = (enc >>> 24) & 0x0f, bitOff = (enc >>> 16) & 0xff, bits = enc & 0xff;
        if (![1, 2, 4, 8, 16].includes(sizeOrType)) throw this.#corrupt(id, `INT size ${sizeOrType}`);
        if (bits === 0 || bitOff + bits > sizeOrType * 8) throw this.#corrupt(id, `INT of ${sizeOrType} bytes with ${bits} bits at bit ${bitOff}`);
        return {
          kind: 'int', id, name, size: sizeOrType, bits,
          signed: (encoding & BTF_INT_SIGNED) !== 0, isBool: (encoding & BTF_INT_BOOL) !== 0,
          // pahole never sets the CHAR bit, so the name decides too.
          isChar: (encoding & BTF_INT_CHAR) !== 0 || (sizeOrType === 1 && name !== null && CHAR_NAMES.has(canonicalBaseName(name))),
        };
      }
      case BtfKind.FLOAT:
        if (![2, 4, 8, 12, 16].includes(sizeOrType)) throw this.#corrupt(id, `FLOAT size ${sizeOrType}`);
        return { kind: 'float', id, name, size: sizeOrType };
      case BtfKind.PTR:
        return { kind: 'pointer', id, name: null, target: this.#ref(sizeOrType, id) };
      case BtfKind.ARRAY:
        this.#ref(this.#u32(body + 4), id); // index type: unused, but must exist
        return { kind: 'array', id, name: null, element: this.#ref(this.#u32(body), id), length: this.#u32(body + 8) };
      case BtfKind.STRUCT: case BtfKind.UNION:
        return { kind: kind === BtfKind.STRUCT ? 'struct' : 'union', id, name, size: sizeOrType, members: this.#members(id, body, vlen, kflag, sizeOrType) };
      case BtfKind.ENUM: case BtfKind.ENUM64: {
        // An enum with no constants is how BTF spells a forward-declared enum.
        if (vlen === 0) return { kind: 'fwd', id, name, of: 'enum' };
        if (![1, 2, 4, 8].includes(sizeOrType)) throw this.#corrupt(id, `${BTF_KIND_NAMES[kind]} size ${sizeOrType}`);
        return { kind: 'enum', id, name, size: sizeOrType, signed: kflag, enumerators: this.#enumerators_(id, kind, body, vlen, kflag) };
      }
      case BtfKind.FWD:
        return { kind: 'fwd', id, name, of: kflag ? 'union' : 'struct' };
      case BtfKind.TYPEDEF:
        if (name === null) throw this.#corrupt(id, 'TYPEDEF without a name');
        return { kind: 'typedef', id, name, target: this.#ref(sizeOrType, id) };
      case BtfKind.CONST: case BtfKind.VOLATILE: case BtfKind.RESTRICT: case BtfKind.TYPE_TAG: {
        const qualifier = kind === BtfKind.CONST ? 'const' : kind === BtfKind.VOLATILE ? 'volatile' : kind === BtfKind.RESTRICT ? 'restrict' : 'tag';
        const target = this.#ref(sizeOrType, id);
        return qualifier === 'tag' && name !== null
          ? { kind: 'qualifier', id, name: null, qualifier, tag: name, target }
          : { kind: 'qualifier', id, name: null, qualifier, target };
      }
      case BtfKind.FUNC_PROTO: {
        const params: Parameter[] = [];
        let variadic = false;
        for (let k = 0; k < vlen; k++) {
          const pNameOff = this.#u32(body + k * 8), pType = this.#u32(body + k * 8 + 4);
          // A last parameter with neither name nor type marks `...`.
          if (pType === 0 && pNameOff === 0 && k === vlen - 1) { variadic = true; break; }
          params.push({ name: pNameOff === 0 ? null : this.#str(pNameOff, id), type: this.#ref(pType, id) });
        }
        return { kind: 'function', id, name: null, returnType: this.#ref(sizeOrType, id), params, variadic };
      }
      default:
        throw new TypeLookupError(`${this.label}: id ${id} is a ${BTF_KIND_NAMES[kind]} record, not a type`);
    }
  }

  #members(id: TypeId, body: number, vlen: number, kflag: boolean, size: number): Member[] {
    const out: Member[] = [];
    for (let k = 0; k < vlen; k++) {
      const m = body + k * 12;
      const nameOff = this.#u32(m), type = this.#ref(this.#u32(m + 4), id), raw = this.#u32(m + 8);
      let bitOffset: number, bitSize: number | null;
      if (kflag) {
        // kind_flag: the offset word packs bitfield size (high 8 bits) over bit offset (low 24).
        bitOffset = raw & 0xffffff;
        bitSize = raw >>> 24 || null;
      } else {
        // Older encoding: a bitfield is a member whose INT type is narrower than its storage.
        bitOffset = raw;
        bitSize = null;
        const legacy = this.#legacyBitfield(type);
        if (legacy) { bitOffset += legacy.offset; bitSize = legacy.bits; }
      }
      if (bitOffset > size * 8) throw this.#corrupt(id, `member ${k} at bit ${bitOffset} lies beyond the type's ${size} bytes`);
      out.push({ name: nameOff === 0 ? null : this.#str(nameOff, id), type, offset: Math.floor(bitOffset / 8), bitOffset, bitSize });
    }
    return out;
  }

  /** For a member without kind_flag: its INT's bit offset and width when it is a bitfield. */
  #legacyBitfield(type: TypeId): { offset: number; bits: number } | null {
    let id = type;
    for (let n = 0; n < MAX_CHAIN && id >= this.firstId; n++) {
      const i = this.#local(id);
      const kind = this.#kinds[i];
      const pos = this.#offsets[i];
      if (kind === BtfKind.TYPEDEF || kind === BtfKind.CONST || kind === BtfKind.VOLATILE || kind === BtfKind.RESTRICT || kind === BtfKind.TYPE_TAG) {
        id = this.#ref(this.#u32(pos + 8), id);
        continue;
      }
      if (kind !== BtfKind.INT) return null;
      const enc = this.#u32(pos + BTF_TYPE_HEADER), size = this.#u32(pos + 8);
      const off = (enc >>> 16) & 0xff, bits = enc & 0xff;
      return off !== 0 || bits !== size * 8 ? { offset: off, bits } : null;
    }
    // Base types of split BTF: the base decodes them.
    if (id > 0 && id < this.firstId) return this.base!.#legacyBitfield(id);
    return null;
  }

  #enumerators_(id: TypeId, kind: number, body: number, vlen: number, signed: boolean): Enumerator[] {
    const out: Enumerator[] = [];
    const stride = kind === BtfKind.ENUM ? 8 : 12;
    for (let k = 0; k < vlen; k++) {
      const e = body + k * stride;
      const name = this.#str(this.#u32(e), id);
      let value: bigint;
      if (kind === BtfKind.ENUM) {
        const raw = this.#u32(e + 4);
        value = BigInt(signed ? raw | 0 : raw);
      } else {
        const v = (BigInt(this.#u32(e + 8)) << 32n) | BigInt(this.#u32(e + 4));
        value = signed ? BigInt.asIntN(64, v) : v;
      }
      out.push({ name, value });
    }
    return out;
  }

  #proto(id: TypeId, from: TypeId): TypeId {
    if (this.describe(id).kind !== 'function') throw this.#corrupt(from, `FUNC refers to id ${id}, which is not a FUNC_PROTO`);
    return id;
  }

  #linkage(v: number, id: TypeId): Linkage {
    const l = LINKAGE[v];
    if (l === undefined) throw this.#corrupt(id, `linkage ${v}`);
    return l;
  }

  // ---- raw access, every read checked --------------------------------------------------------

  #u32(off: number): number {
    return this.#view.getUint32(off, this.#le);
  }

  /** A string from the (base or own) string section; offsets past the end are corruption. */
  #str(off: number, from: TypeId): string {
    if (this.base) {
      if (off < this.base.#strLen) return this.base.#str(off, from);
      off -= this.base.#strLen;
    }
    if (off >= this.#strLen) throw this.#corrupt(from, `name offset ${off} is past the ${this.#strLen}-byte string section`);
    if (this.#strings === null) {
      this.#strings = Buffer.from(this.#view.buffer, this.#view.byteOffset + this.#strStart, this.#strLen).toString('latin1');
      this.#asciiStrings = !/[^\x00-\x7f]/.test(this.#strings);
    }
    const end = this.#strings.indexOf('\0', off); // found: the section ends in NUL (checked on load)
    const s = this.#strings.slice(off, end);
    // Names are ASCII in practice; anything else was UTF-8 in the source.
    return this.#asciiStrings || !/[^\x00-\x7f]/.test(s) ? s : Buffer.from(s, 'latin1').toString('utf8');
  }

  /** A type id read from the data: it must name a type that exists. */
  #ref(id: number, from: TypeId): TypeId {
    if (id >= this.typeCount) throw this.#corrupt(from, `refers to type id ${id}, but there are only ${this.typeCount}`);
    return id;
  }

  #local(id: TypeId): number {
    const i = id - this.firstId;
    if (!Number.isInteger(id) || i < 0 || i >= this.#offsets.length) throw new TypeLookupError(`${this.label}: no type id ${id} (valid: 0..${this.typeCount - 1})`);
    return i;
  }

  #baseOrThrow(id: TypeId): BtfTypes {
    if (!this.base || id < 0 || !Number.isInteger(id)) throw new TypeLookupError(`${this.label}: no type id ${id} (valid: 0..${this.typeCount - 1})`);
    return this.base;
  }

  #isFwd(id: TypeId): boolean {
    if (id < this.firstId) return this.base!.#isFwd(id);
    const i = this.#local(id);
    const kind = this.#kinds[i];
    return kind === BtfKind.FWD || ((kind === BtfKind.ENUM || kind === BtfKind.ENUM64) && (this.#u32(this.#offsets[i] + 4) & 0xffff) === 0);
  }

  #corrupt(id: TypeId, what: string): BtfError {
    return new BtfError(`corrupt BTF: type ${id}: ${what}`, this.label);
  }
}

const CHAR_NAMES = new Set(['char', 'signed char', 'unsigned char']);

const VOID: TypeDesc = Object.freeze({ kind: 'void', id: 0, name: 'void' });

function addFirst(map: Map<string, TypeId>, key: string, id: TypeId): void {
  if (!map.has(key)) map.set(key, id);
}

/** Parse BTF bytes (a raw .BTF file/section, or what findBtfInBuffer located). */
export function parseBtf(buf: Uint8Array, opts: BtfOptions = {}): BtfTypes {
  return new BtfTypes(buf, opts);
}
