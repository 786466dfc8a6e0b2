/**
 * KObject: a typed view of kernel memory — a type and an address (drgn's Object idea). Member
 * paths are resolved through TypeInfo (cached there per type and path); values are read lazily,
 * or from a snapshot buffer when the object was read whole with `snapshot()`, so walking a struct
 * costs one read rather than one per member.
 */
import { readCString, type MemoryReader } from '../dump/dump.js';
import type { TypeId, TypeInfo, TypeRef } from '../types/typeinfo.js';
import { VaatError } from '../dump/errors.js';

/** What objects need from their program: memory and types. */
export interface ObjectContext {
  readonly mem: MemoryReader;
  readonly types: TypeInfo;
}

/** Bytes already read for an enclosing object: reads inside [base, base+buf.length) come from here. */
interface Snapshot { base: bigint; buf: Buffer }

export class ObjectError extends VaatError {}

/**
 * A typed object in the dump's memory, drgn's Object: an address and a type, read lazily —
 * member('a.b'), index(i), deref(), cast(), and the value readers (number(), bigint(), pointer(),
 * string(), bool()). snapshot() reads it whole once.
 */
export class KObject {
  constructor(
    readonly ctx: ObjectContext,
    /** the declared type (typedefs kept, for printing) */
    readonly type: TypeId,
    readonly address: bigint,
    /** for bitfield members: bit position from `address` and width */
    readonly bitOffset = 0,
    readonly bitSize: number | null = null,
    private readonly snap: Snapshot | null = null,
  ) {}

  static at(ctx: ObjectContext, address: bigint, type: TypeRef): KObject {
    return new KObject(ctx, ctx.types.getType(type), address);
  }

  get typeName(): string { return this.ctx.types.typeName(this.type); }
  get size(): number { return this.ctx.types.sizeof(this.type); }
  /** the type with typedefs and qualifiers stripped */
  get kind(): string { return this.ctx.types.resolved(this.type).kind; }

  /** Read the whole object once; members taken from the result read no more memory. */
  snapshot(): KObject {
    const buf = this.ctx.mem.readVirt(this.address, this.size);
    return new KObject(this.ctx, this.type, this.address, this.bitOffset, this.bitSize, { base: this.address, buf });
  }

  #bytes(addr: bigint, len: number): Buffer {
    const s = this.snap;
    if (s && addr >= s.base && addr + BigInt(len) <= s.base + BigInt(s.buf.length)) {
      const off = Number(addr - s.base);
      return s.buf.subarray(off, off + len);
    }
    return this.ctx.mem.readVirt(addr, len);
  }

  /**
   * A member by path: `'se.vruntime'`, `'cpus_mask.bits[1]'`. Through a pointer the path follows
   * it (like C's `->`), so `task.member('mm.owner')` works on `struct mm_struct *mm`.
   */
  member(path: string): KObject {
    let obj: KObject = this;
    for (const part of splitPath(path)) {
      if (obj.kind === 'pointer') obj = obj.deref();
      if (typeof part === 'number') { obj = obj.index(part); continue; }
      const loc = obj.ctx.types.memberPath(obj.type, part);
      obj = new KObject(obj.ctx, loc.type, obj.address + BigInt(loc.offset), loc.bitOffset - loc.offset * 8, loc.bitSize, obj.snap);
    }
    return obj;
  }

  /** the first member path of an alias chain that this kernel has (e.g. ['__state', 'state']) */
  memberOf(paths: readonly string[]): KObject {
    const r = this.ctx.types.resolveMember(this.type, paths);
    return this.member(r.path);
  }

  hasMember(path: string): boolean { return this.ctx.types.hasMember(this.type, path); }

  /** follow a pointer to the object it points at */
  deref(): KObject {
    const t = this.ctx.types.resolved(this.type);
    if (t.kind !== 'pointer') throw new ObjectError(`cannot dereference ${this.typeName}`);
    const target = this.pointer();
    if (target === 0n) throw new ObjectError(`NULL pointer dereference of ${this.typeName} at 0x${this.address.toString(16)}`);
    return new KObject(this.ctx, t.target, target, 0, null, this.snap);
  }

  /** element i of an array, or of the array a pointer points into */
  index(i: number): KObject {
    const t = this.ctx.types.resolved(this.type);
    if (t.kind === 'array') {
      const sz = this.ctx.types.sizeof(t.element);
      return new KObject(this.ctx, t.element, this.address + BigInt(i * sz), 0, null, this.snap);
    }
    if (t.kind === 'pointer') {
      const sz = this.ctx.types.sizeof(t.target);
      return new KObject(this.ctx, t.target, this.pointer() + BigInt(i * sz), 0, null, this.snap);
    }
    throw new ObjectError(`cannot index ${this.typeName}`);
  }

  /** view the same address as another type */
  cast(type: TypeRef): KObject {
    return new KObject(this.ctx, this.ctx.types.getType(type), this.address, 0, null, this.snap);
  }

  /** the value of an integer, enum, bool or pointer: number when it fits in 32 bits or is a bitfield, bigint for 64-bit */
  value(): number | bigint {
    const t = this.ctx.types.resolved(this.type);
    switch (t.kind) {
      case 'pointer': return this.pointer();
      case 'int':
      case 'enum': {
        const signed = t.signed;
        if (this.bitSize !== null) return this.#bitfield(t.size, signed);
        const b = this.#bytes(this.address, t.size);
        switch (t.size) {
          case 1: return signed ? b.readInt8(0) : b.readUInt8(0);
          case 2: return signed ? b.readInt16LE(0) : b.readUInt16LE(0);
          case 4: return signed ? b.readInt32LE(0) : b.readUInt32LE(0);
          case 8: return signed ? b.readBigInt64LE(0) : b.readBigUInt64LE(0);
          default: throw new ObjectError(`unsupported integer size ${t.size}`);
        }
      }
      default:
        throw new ObjectError(`${this.typeName} has no scalar value`);
    }
  }

  #bitfield(size: number, signed: boolean): number {
    const bits = this.bitSize!;
    const firstByte = Math.floor(this.bitOffset / 8);
    const nbytes = Math.ceil((this.bitOffset % 8 + bits) / 8);
    const b = this.#bytes(this.address + BigInt(firstByte), nbytes);
    let v = 0n;
    for (let i = nbytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    v = (v >> BigInt(this.bitOffset % 8)) & ((1n << BigInt(bits)) - 1n);
    if (signed && bits > 0 && v & (1n << BigInt(bits - 1))) v -= 1n << BigInt(bits);
    void size;
    return Number(v);
  }

  /** integer value as a JS number; throws if it does not fit exactly */
  number(): number {
    const v = this.value();
    if (typeof v === 'number') return v;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new ObjectError(`${this.typeName} value ${v} does not fit a number`);
    return Number(v);
  }

  /** integer value as a bigint */
  bigint(): bigint { const v = this.value(); return typeof v === 'bigint' ? v : BigInt(v); }

  bool(): boolean { const v = this.value(); return v !== 0 && v !== 0n; }

  /** a pointer's target address */
  pointer(): bigint { return this.#bytes(this.address, this.ctx.types.pointerSize).readBigUInt64LE(0); }

  /** the address of this object as a pointer value (C's &obj) */
  get addressOf(): bigint { return this.address; }

  /** a char array or char pointer as a string, up to the NUL or `limit` bytes */
  string(limit = 4096): string {
    const t = this.ctx.types.resolved(this.type);
    if (t.kind === 'array') {
      const n = Math.min(t.length * this.ctx.types.sizeof(t.element), limit);
      const b = this.#bytes(this.address, n);
      const nul = b.indexOf(0);
      return b.subarray(0, nul < 0 ? n : nul).toString('utf8');
    }
    if (t.kind === 'pointer') {
      const p = this.pointer();
      if (p === 0n) return '';
      return readCString(this.ctx.mem, p, limit);
    }
    throw new ObjectError(`${this.typeName} is not a string`);
  }

  /** read a small struct into a plain object (members by name; nested structs recursively) */
  read(depth = 2): unknown {
    const snap = this.snap ? this : this.snapshot();
    return plain(snap, depth);
  }
}

function plain(obj: KObject, depth: number): unknown {
  const t = obj.ctx.types.resolved(obj.type);
  switch (t.kind) {
    case 'int': case 'enum': case 'pointer': return obj.value();
    case 'array': {
      const el = obj.ctx.types.resolved(t.element);
      if (el.kind === 'int' && el.isChar) return obj.string();
      if (depth <= 0) return `<${obj.typeName}>`;
      return Array.from({ length: Math.min(t.length, 64) }, (_, i) => plain(obj.index(i), depth - 1));
    }
    case 'struct': case 'union': {
      if (depth <= 0) return `<${obj.typeName}>`;
      const out: Record<string, unknown> = {};
      for (const m of obj.ctx.types.members(obj.type)) out[m.name] = plain(obj.member(m.name), depth - 1);
      return out;
    }
    default: return `<${obj.typeName}>`;
  }
}

/**
 * What value() returns for an integer of type `type` (not a bitfield), as a function of bytes
 * that hold it: a table reading one member of 20,000 objects from their bytes makes no object per
 * value. Null for a type value() does not read as a plain integer (bool, char, enum, pointer ...).
 */
export function integerReader(types: TypeInfo, type: TypeRef): ((b: Buffer, at: number) => number | bigint) | null {
  const t = types.resolved(type);
  if (t.kind !== 'int' || t.isBool || t.isChar) return null;
  switch (t.size) {
    case 1: return t.signed ? (b, at) => b.readInt8(at) : (b, at) => b.readUInt8(at);
    case 2: return t.signed ? (b, at) => b.readInt16LE(at) : (b, at) => b.readUInt16LE(at);
    case 4: return t.signed ? (b, at) => b.readInt32LE(at) : (b, at) => b.readUInt32LE(at);
    case 8: return t.signed ? (b, at) => b.readBigInt64LE(at) : (b, at) => b.readBigUInt64LE(at);
    default: return null;
  }
}

const splitPaths = new Map<string, readonly (string | number)[]>();

/** 'a.b[2].c' → ['a', 'b', 2, 'c']; paths are few and reused in every loop, so each is split once */
export function splitPath(path: string): readonly (string | number)[] {
  let parts = splitPaths.get(path);
  if (!parts) {
    parts = splitPathUncached(path);
    if (splitPaths.size < 10_000) splitPaths.set(path, parts);
  }
  return parts;
}

function splitPathUncached(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.replace(/->/g, '.').matchAll(/([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)) {
    out.push(m[1] !== undefined ? m[1] : Number(m[2]));
  }
  return out;
}

