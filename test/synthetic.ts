/**
 * Hand-built kernels for the layouts no fixture has: BTF written type by type (`Btf`), flat
 * memory at a kernel address (`flatMemory`), and a context over both (`staticContext`), so a
 * test states a kernel's shape and the values it holds and nothing else.
 */
import { parseBtf } from '../src/types/btf.js';
import type { MemoryReader } from '../src/dump/dump.js';

/** A BTF builder by name: `t('name')` is the id of a type added before. */
export class Btf {
  #strs = [''];
  #words: number[] = [];
  #ids = new Map<string, number>();
  #next = 1;
  #str(s: string): number { if (!s) return 0; const at = this.#strs.join('\0').length + 1; this.#strs.push(s); return at; }
  #rec(key: string, name: string, kind: number, vlen: number, sizeOrType: number, ...rest: number[]): number {
    this.#words.push(this.#str(name), ((kind << 24) | vlen) >>> 0, sizeOrType, ...rest);
    const id = this.#next++;
    if (key) this.#ids.set(key, id);
    return id;
  }
  t(key: string): number { const id = this.#ids.get(key); if (id === undefined) throw new Error(`no type ${key} yet`); return id; }
  int(name: string, size: number, signed = false): this { this.#rec(name, name, 1, 0, size, ((signed ? 1 : 0) << 24) | (size * 8)); return this; }
  typedef(name: string, to: string): this { this.#rec(name, name, 8, 0, this.t(to)); return this; }
  ptr(to: string): this { this.#rec(`${to} *`, '', 2, 0, to === 'void' ? 0 : this.t(to)); return this; }
  array(of: string, n: number): this { this.#rec(`${of}[${n}]`, '', 3, 0, 0, this.t(of), this.t('unsigned int'), n); return this; }
  /** a struct (or union); a member of type `struct NAME *` may point at the struct being defined */
  struct(name: string, size: number, members: [string, string, number][], kind: 'struct' | 'union' = 'struct'): this {
    const key = `${kind} ${name}`;
    // a pointer to itself (list_head.next, rb_node.rb_left): the pointer comes first, aimed at the next id
    if (members.some(([, ty]) => ty === `${key} *`) && !this.#ids.has(`${key} *`)) this.#rec(`${key} *`, '', 2, 0, this.#next + 1);
    this.#rec(key, name, kind === 'struct' ? 4 : 5, members.length, size, ...members.flatMap(([n, ty, off]) => [this.#str(n), this.t(ty), off * 8]));
    return this;
  }
  enumOf(name: string, values: [string, number][]): this {
    this.#rec(`enum ${name}`, name, 6, values.length, 4, ...values.flatMap(([n, v]) => [this.#str(n), v]));
    return this;
  }
  build() {
    const strBytes = Buffer.from(this.#strs.join('\0') + '\0');
    const buf = Buffer.alloc(24 + this.#words.length * 4 + strBytes.length);
    buf.writeUInt16LE(0xeb9f, 0); buf[2] = 1; buf.writeUInt32LE(24, 4);
    buf.writeUInt32LE(0, 8); buf.writeUInt32LE(this.#words.length * 4, 12);
    buf.writeUInt32LE(this.#words.length * 4, 16); buf.writeUInt32LE(strBytes.length, 20);
    this.#words.forEach((w, i) => buf.writeUInt32LE(w >>> 0, 24 + i * 4));
    strBytes.copy(buf, 24 + this.#words.length * 4);
    return parseBtf(buf, { label: 'synthetic' });
  }
}

/** the C base types every synthetic kernel starts from, with an empty `struct list_head` */
export const baseTypes = (): Btf => new Btf().int('unsigned int', 4).int('int', 4, true).int('char', 1).int('long long int', 8, true)
  .int('long long unsigned int', 8).int('long unsigned int', 8).int('long int', 8, true).typedef('u32', 'unsigned int').typedef('u64', 'long long unsigned int');

/** flat synthetic memory at BASE (a kernel direct-map address), with little-endian writers */
export function flatMemory(size = 0x4000): {
  mem: MemoryReader; buf: Buffer; BASE: bigint;
  w64: (a: bigint, v: bigint) => void; w32: (a: bigint, v: number) => void;
} {
  const BASE = 0xffff888000000000n;
  const buf = Buffer.alloc(size);
  const mem: MemoryReader = {
    file: '<synthetic>',
    readVirt(addr, len) {
      if (addr < BASE || addr + BigInt(len) > BASE + BigInt(buf.length)) throw new Error(`unmapped 0x${addr.toString(16)}`);
      return buf.subarray(Number(addr - BASE), Number(addr - BASE) + len);
    },
    readPhys() { throw new Error('no physical memory'); },
    readVirtMany(addrs, sizes) { return addrs.map((a, i) => this.readVirt(a, typeof sizes === 'number' ? sizes : sizes[i])); },
  };
  const w64 = (a: bigint, v: bigint) => buf.writeBigUInt64LE(BigInt.asUintN(64, v), Number(a - BASE));
  const w32 = (a: bigint, v: number) => buf.writeUInt32LE(v >>> 0, Number(a - BASE));
  return { mem, buf, BASE, w64, w32 };
}
