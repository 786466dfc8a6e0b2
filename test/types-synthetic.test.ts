/**
 * Hand-built BTF for what the 6.1 vmlinux blob does not exercise: big-endian data, bitfields in
 * the pre-kind_flag encoding, signed and 64-bit enums, enum forward declarations, type tags and
 * qualifier spelling, DECL_TAG/DATASEC records, split string offsets, and corrupt references.
 */
import { describe, expect, it } from 'vitest';
import { parseBtf } from '../src/types/btf.js';
import { BtfKind, findBtfInBuffer } from '../src/types/btf-format.js';
import { BtfError, TypeLookupError } from '../src/types/errors.js';

/** A minimal BTF encoder: records as u32 words, strings deduplicated. */
class BtfWriter {
  readonly #strs: string[] = [''];
  readonly #strOff = new Map<string, number>([['', 0]]);
  #strLen = 1;
  readonly #records: number[][] = [];
  constructor(readonly firstId = 1, readonly strBase = 0) {}

  str(s: string): number {
    if (s === '' && this.strBase === 0) return 0;
    let off = this.#strOff.get(s);
    if (off === undefined) {
      off = this.#strLen;
      this.#strOff.set(s, off);
      this.#strs.push(s);
      this.#strLen += Buffer.byteLength(s) + 1;
    }
    return this.strBase + off;
  }

  /** Append a record: name (or a raw string offset), kind, vlen, kind_flag, size-or-type, trailing words. Returns its id. */
  add(name: string | number, kind: number, vlen: number, kflag: boolean, sizeOrType: number, ...rest: number[]): number {
    const info = ((kflag ? 1 << 31 : 0) | (kind << 24) | vlen) >>> 0;
    const nameOff = typeof name === 'number' ? name : name ? this.str(name) : 0;
    this.#records.push([nameOff, info, sizeOrType >>> 0, ...rest.map((w) => w >>> 0)]);
    return this.firstId + this.#records.length - 1;
  }

  /** Overwrite word `word` of a record (0 name, 1 info, 2 size/type, 3... trailing). */
  patch(id: number, word: number, value: number): void {
    this.#records[id - this.firstId][word] = value >>> 0;
  }

  build(littleEndian = true): Buffer {
    const words = this.#records.flat();
    const strBytes = Buffer.from(this.#strs.map((s) => `${s}\0`).join(''), 'utf8');
    const buf = Buffer.alloc(24 + words.length * 4 + strBytes.length);
    const u16 = (v: number, at: number): number => (littleEndian ? buf.writeUInt16LE(v, at) : buf.writeUInt16BE(v, at));
    const u32 = (v: number, at: number): number => (littleEndian ? buf.writeUInt32LE(v, at) : buf.writeUInt32BE(v, at));
    u16(0xeb9f, 0);
    buf[2] = 1;
    u32(24, 4);
    u32(0, 8);
    u32(words.length * 4, 12);
    u32(words.length * 4, 16);
    u32(strBytes.length, 20);
    words.forEach((w, i) => u32(w, 24 + i * 4));
    strBytes.copy(buf, 24 + words.length * 4);
    return buf;
  }
}

const intEnc = (signed: boolean, bits: number, offset = 0): number => ((signed ? 1 : 0) << 24) | (offset << 16) | bits;

/** A small C world: `struct s { unsigned int a:3, b:5 (legacy encoding); int x; } ...` and friends. */
function sample(): { w: BtfWriter; ids: Record<string, number> } {
  const w = new BtfWriter();
  const ids: Record<string, number> = {};
  ids.uint = w.add('unsigned int', BtfKind.INT, 0, false, 4, intEnc(false, 32));
  ids.int = w.add('int', BtfKind.INT, 0, false, 4, intEnc(true, 32));
  ids.char = w.add('char', BtfKind.INT, 0, false, 1, intEnc(true, 8));
  // Legacy bitfields: the member's INT is narrower than its storage and carries the bit offset.
  ids.u3 = w.add('unsigned int', BtfKind.INT, 0, false, 4, intEnc(false, 3));
  ids.u5at2 = w.add('unsigned int', BtfKind.INT, 0, false, 4, intEnc(false, 5, 2));
  ids.legacyTd = w.add('u5_t', BtfKind.TYPEDEF, 0, false, ids.u5at2);
  ids.s = w.add('s', BtfKind.STRUCT, 3, false, 8,
    w.str('a'), ids.u3, 0,
    w.str('b'), ids.legacyTd, 1, // bit 1 + INT offset 2 = bit 3
    w.str('x'), ids.int, 32);
  ids.fwdS = w.add('s', BtfKind.FWD, 0, false, 0); // declared after its definition: must not shadow it
  ids.fwdT = w.add('t', BtfKind.FWD, 0, true, 0); // union t, never defined
  ids.sign = w.add('sign', BtfKind.ENUM, 2, true, 4, w.str('NEG_ONE'), -1, w.str('ZERO'), 0);
  ids.big = w.add('big', BtfKind.ENUM64, 2, true, 8, w.str('MINUS_TWO'), 0xfffffffe, 0xffffffff, w.str('HUGE'), 0, 0x40000000);
  ids.fwdE = w.add('later', BtfKind.ENUM, 0, false, 4); // an enum forward declaration
  ids.float = w.add('double', BtfKind.FLOAT, 0, false, 8);
  ids.tag = w.add('user', BtfKind.TYPE_TAG, 0, false, ids.char);
  ids.ptrTag = w.add('', BtfKind.PTR, 0, false, ids.tag);
  ids.volatile = w.add('', BtfKind.VOLATILE, 0, false, ids.int);
  ids.constPtr = w.add('', BtfKind.CONST, 0, false, ids.ptrTag); // char __user *const
  ids.arr = w.add('', BtfKind.ARRAY, 0, false, 0, ids.int, ids.uint, 4);
  ids.ptrArr = w.add('', BtfKind.PTR, 0, false, ids.arr); // int (*)[4]
  ids.restrict = w.add('', BtfKind.RESTRICT, 0, false, ids.ptrArr);
  ids.proto = w.add('', BtfKind.FUNC_PROTO, 3, false, ids.int, w.str('fmt'), ids.constPtr, w.str('n'), ids.volatile, 0, 0);
  ids.noargs = w.add('', BtfKind.FUNC_PROTO, 0, false, 0);
  ids.func = w.add('my_printf', BtfKind.FUNC, 1, false, ids.proto);
  ids.fnPtr = w.add('', BtfKind.PTR, 0, false, ids.noargs);
  ids.u = w.add('u', BtfKind.UNION, 2, false, 8, w.str('f'), ids.float, 0, w.str('cb'), ids.fnPtr, 0);
  ids.kf = w.add('kf', BtfKind.STRUCT, 2, true, 4, w.str('lo'), ids.uint, (4 << 24) | 0, w.str('hi'), ids.uint, (12 << 24) | 4);
  // A bit offset past 16 bits: kind_flag packs 24 bits of offset under the 8-bit size.
  ids.wide = w.add('wide', BtfKind.STRUCT, 1, true, 16384, w.str('far'), ids.uint, (7 << 24) | 100_003);
  ids.var = w.add('my_var', BtfKind.VAR, 0, false, ids.s, 1);
  ids.sec = w.add('.data', BtfKind.DATASEC, 1, false, 8, ids.var, 16, 8);
  ids.declTag = w.add('noinline', BtfKind.DECL_TAG, 0, false, ids.func, -1);
  return { w, ids };
}

describe('synthetic BTF', () => {
  for (const littleEndian of [true, false]) {
    it(`decodes every kind (${littleEndian ? 'little' : 'big'}-endian)`, () => {
      const { w, ids } = sample();
      const btf = parseBtf(w.build(littleEndian));
      expect(btf.header.littleEndian).toBe(littleEndian);
      expect(btf.typeCount).toBe(ids.declTag + 1);
      // legacy bitfields
      expect(btf.memberPath('struct s', 'a')).toMatchObject({ offset: 0, bitOffset: 0, bitSize: 3 });
      expect(btf.memberPath('struct s', 'b')).toMatchObject({ offset: 0, bitOffset: 3, bitSize: 5 });
      expect(btf.memberPath('s', 'x')).toMatchObject({ offset: 4, bitOffset: 32, bitSize: null });
      // kind_flag bitfields
      expect(btf.memberPath('struct kf', 'hi')).toMatchObject({ offset: 0, bitOffset: 4, bitSize: 12 });
      expect(btf.memberPath('struct wide', 'far')).toMatchObject({ offset: 12_500, bitOffset: 100_003, bitSize: 7 });
      // a definition wins over a later forward declaration; an undefined one is still found
      expect(btf.findType('struct s')).toBe(ids.s);
      expect(btf.describe(btf.getType('union t'))).toMatchObject({ kind: 'fwd', of: 'union' });
      expect(btf.describe(btf.getType('enum later'))).toMatchObject({ kind: 'fwd', of: 'enum' });
      expect(() => btf.sizeof('union t')).toThrow(TypeLookupError);
      // enums: signed 32-bit and 64-bit
      expect(btf.enumValue('NEG_ONE')).toBe(-1n);
      expect(btf.enumName('enum sign', 0xffffffff)).toBe('NEG_ONE');
      expect(btf.enumValue('MINUS_TWO')).toBe(-2n);
      expect(btf.enumValue('HUGE')).toBe(1n << 62n);
      expect(btf.findEnumerator('HUGE')).toMatchObject({ enumType: ids.big });
      // names: tags vanish, qualifiers bind where C puts them
      expect(btf.typeName(ids.constPtr)).toBe('char *const');
      expect(btf.typeName(ids.restrict)).toBe('int (*restrict)[4]');
      expect(btf.typeName(ids.proto)).toBe('int (char *const, volatile int, ...)');
      expect(btf.typeName(btf.memberPath('union u', 'cb').type)).toBe('void (*)(void)');
      expect(btf.describe(ids.tag)).toMatchObject({ kind: 'qualifier', qualifier: 'tag', tag: 'user' });
      expect(btf.resolve(ids.constPtr)).toBe(ids.ptrTag);
      expect(btf.sizeof(ids.arr)).toBe(16);
      expect(btf.sizeof('double')).toBe(8);
      expect(btf.sizeof('union u')).toBe(8);
      // symbols
      expect(btf.findFunction('my_printf')).toMatchObject({ type: ids.proto, linkage: 'global' });
      expect(btf.findVariable('my_var')).toMatchObject({ type: ids.s, linkage: 'global', section: '.data', sectionOffset: 16 });
      expect(() => btf.describe(ids.declTag)).toThrow(/DECL_TAG record, not a type/);
      expect(findBtfInBuffer(Buffer.concat([Buffer.alloc(7), w.build(littleEndian)]))).toMatchObject({ offset: 7, header: { littleEndian } });
    });
  }

  it('reads split BTF whose strings and ids continue the base', () => {
    const { w, ids } = sample();
    const baseBuf = w.build();
    const base = parseBtf(baseBuf);
    const split = new BtfWriter(base.typeCount, baseBuf.readUInt32LE(20));
    const mod = split.add('m', BtfKind.STRUCT, 2, false, 16, split.str('inner'), ids.s, 0, split.str('x'), ids.int, 64);
    // A name already in the base string section is referenced by its base offset.
    const td = split.add(w.str('s'), BtfKind.TYPEDEF, 0, false, mod);
    const btf = parseBtf(split.build(), { base });
    expect(btf.firstId).toBe(base.typeCount);
    expect(btf.memberPath('struct m', 'inner.b')).toMatchObject({ bitOffset: 3, bitSize: 5 });
    expect(btf.offsetof('m', 'x')).toBe(8);
    expect(btf.describe(td)).toMatchObject({ kind: 'typedef', name: 's', target: mod });
    expect(btf.enumValue('NEG_ONE')).toBe(-1n);
    expect(btf.findType('struct s')).toBe(ids.s);
    expect(base.findType('struct m')).toBeNull();
  });

  it('rejects corrupt records with BtfError', () => {
    const w = new BtfWriter();
    const int = w.add('int', BtfKind.INT, 0, false, 4, intEnc(true, 32));
    const dangling = w.add('bad', BtfKind.STRUCT, 1, false, 4, w.str('m'), 99, 0);
    const beyond = w.add('far', BtfKind.STRUCT, 1, false, 4, w.str('m'), int, 64);
    const badInt = w.add('wide', BtfKind.INT, 0, false, 4, intEnc(true, 40));
    const loopA = w.add('loop_a', BtfKind.TYPEDEF, 0, false, 0);
    const loopB = w.add('loop_b', BtfKind.TYPEDEF, 0, false, loopA);
    w.patch(loopA, 2, loopB); // loop_a → loop_b → loop_a
    const btf = parseBtf(w.build());
    expect(() => btf.describe(dangling)).toThrow(/type id 99/);
    expect(() => btf.members('struct bad')).toThrow(BtfError);
    expect(() => btf.members('struct far')).toThrow(/beyond the type's 4 bytes/);
    expect(() => btf.describe(badInt)).toThrow(/40 bits/);
    expect(() => btf.resolve('loop_a')).toThrow(/chain longer than/);
    expect(btf.sizeof('int')).toBe(4);

    // a record whose members run past the type section
    const short = new BtfWriter();
    short.add('x', BtfKind.STRUCT, 5, false, 4);
    expect(() => parseBtf(short.build())).toThrow(/runs past the type section end/);
    // a string section that is not NUL-terminated
    const unterminated = sample().w.build();
    unterminated[unterminated.length - 1] = 0x41;
    expect(() => parseBtf(unterminated)).toThrow(/NUL-terminated/);
  });
});
