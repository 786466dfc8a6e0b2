/**
 * TypeSource: the TypeInfo helpers written once over a few primitives (describe an id, look a
 * name up, find an enumerator/function/variable), so BTF and a later DWARF reader share member
 * paths, sizeof, alias chains, type names and their caches.
 */
import { TypeLookupError } from './errors.js';
import { nameKey, parseTypeName } from './names.js';
import { formatTypeName } from './typename.js';
import type {
  CompoundType, EnumeratorRef, FindTypeOptions, FlatMember, FunctionSymbol, MemberLocation,
  ResolvedMember, TypeDesc, TypeId, TypeInfo, TypeRef, VariableSymbol,
} from './typeinfo.js';

/** Typedef/qualifier chains longer than this only come from corrupt data (a loop). */
const MAX_CHAIN = 64;

interface FlatIndex {
  readonly list: readonly FlatMember[];
  readonly byName: ReadonlyMap<string, FlatMember>;
}

/**
 * Ids at and above this are derived types (`T *`, `T [n]`) minted on request by pointerTo/arrayOf:
 * BTF and DWARF hold only the derived types some declaration used, and a global typed from its
 * header declaration (src/types/well-known.ts) may need one the data never spelled.
 */
export const DERIVED_TYPE_BASE = 0x4000_0000;

/** A member path that did not resolve, with the reason memberPath reports. */
interface PathMiss { readonly miss: string }

export abstract class TypeSource implements TypeInfo {
  abstract readonly source: string;
  abstract readonly pointerSize: number;
  abstract describe(id: TypeId): TypeDesc;
  abstract findEnumerator(name: string): EnumeratorRef | null;
  abstract findFunction(name: string): FunctionSymbol | null;
  abstract findVariable(name: string): VariableSymbol | null;
  /**
   * The type filed under a name-index key (`struct foo`, `union foo`, `enum foo`, a typedef, a
   * canonical base-type name, `void`), preferring a definition over a forward declaration.
   */
  protected abstract lookupName(key: string): TypeId | null;

  #findCache = new Map<string, TypeId | null>();
  #flatCache = new Map<TypeId, FlatIndex>();
  #pathCache = new Map<TypeId, Map<string, MemberLocation | PathMiss>>();
  #aliasCache = new Map<TypeId, Map<string, ResolvedMember | null>>();
  #enumNames = new Map<TypeId, Map<bigint, string>>();
  #derived: TypeDesc[] = [];
  #derivedByKey = new Map<string, TypeId>();

  /** `T *` for a type of this source: a derived id, the same one on every call. */
  pointerTo(ref: TypeRef): TypeId {
    const target = this.getType(ref);
    return this.#derive(`*${target}`, (id) => ({ kind: 'pointer', id, name: null, target }));
  }

  /** `T [length]` (0: a flexible array, `T []`) for a type of this source. */
  arrayOf(ref: TypeRef, length: number): TypeId {
    const element = this.getType(ref);
    if (!Number.isSafeInteger(length) || length < 0) throw new TypeLookupError(`array length ${length} is not a count`);
    return this.#derive(`[${length}]${element}`, (id) => ({ kind: 'array', id, name: null, element, length }));
  }

  #derive(key: string, make: (id: TypeId) => TypeDesc): TypeId {
    let id = this.#derivedByKey.get(key);
    if (id === undefined) {
      id = DERIVED_TYPE_BASE + this.#derived.length;
      this.#derived.push(make(id));
      this.#derivedByKey.set(key, id);
    }
    return id;
  }

  /** A derived type's description, or undefined for an id this source did not derive. Subclasses' describe() asks here first for ids >= DERIVED_TYPE_BASE. */
  protected derivedType(id: TypeId): TypeDesc | undefined {
    return this.#derived[id - DERIVED_TYPE_BASE];
  }

  findType(name: string, opts: FindTypeOptions = {}): TypeId | null {
    const cacheKey = `${opts.exact ? '=' : '~'}${name}`;
    const hit = this.#findCache.get(cacheKey);
    if (hit !== undefined) return hit;
    const { tag, name: bare } = parseTypeName(name);
    let id = this.lookupName(nameKey(tag, bare));
    if (id === null && tag === null && !opts.exact) {
      id = this.lookupName(nameKey('struct', bare)) ?? this.lookupName(nameKey('union', bare)) ?? this.lookupName(nameKey('enum', bare));
    }
    this.#findCache.set(cacheKey, id);
    return id;
  }

  getType(ref: TypeRef): TypeId {
    if (typeof ref === 'number') {
      this.describe(ref); // throws for an id we never issued
      return ref;
    }
    const id = this.findType(ref) ?? this.#declarator(ref);
    if (id === null) throw new TypeLookupError(`no type named '${ref}' in ${this.source}`);
    return id;
  }

  /**
   * A C type expression with pointer and array declarators after a named type: `struct foo *`,
   * `char *[]`, `unsigned long [8]`, `const struct cpumask *` (qualifiers do not change layout
   * and are dropped). Null when it is no such expression or its base name is unknown.
   */
  #declarator(expr: string): TypeId | null {
    const m = /^\s*((?:const |volatile )*)([A-Za-z_][A-Za-z0-9_ ]*?)\s*((?:\*\s*(?:const\s*|volatile\s*)*)*)((?:\[\s*\w*\s*\]\s*)*)$/.exec(expr);
    if (!m || (!m[3] && !m[4])) return null;
    let id = this.findType(m[2]);
    if (id === null) return null;
    for (let n = (m[3].match(/\*/g) ?? []).length; n > 0; n--) id = this.pointerTo(id);
    // A length is a number, empty (`[]`), or an enumerator such as CGROUP_SUBSYS_COUNT.
    const dims: number[] = [];
    for (const d of m[4].matchAll(/\[\s*(\w*)\s*\]/g)) {
      const n = d[1] === '' ? 0 : /^\d+$/.test(d[1]) ? Number(d[1]) : this.findEnumerator(d[1])?.value;
      if (n === undefined || n < 0 || n > Number.MAX_SAFE_INTEGER) return null;
      dims.push(Number(n));
    }
    for (let i = dims.length - 1; i >= 0; i--) id = this.arrayOf(id, dims[i]);
    return id;
  }

  resolve(ref: TypeRef): TypeId {
    let id = this.getType(ref);
    for (let i = 0; i < MAX_CHAIN; i++) {
      const t = this.describe(id);
      if (t.kind !== 'typedef' && t.kind !== 'qualifier') return id;
      id = t.target;
    }
    throw new TypeLookupError(`${this.source} type ${String(ref)}: typedef/qualifier chain longer than ${MAX_CHAIN} (a loop?)`);
  }

  resolved(ref: TypeRef): TypeDesc {
    return this.describe(this.resolve(ref));
  }

  typeName(ref: TypeRef): string {
    return formatTypeName((id) => this.describe(id), this.getType(ref));
  }

  sizeof(ref: TypeRef): number {
    const t = this.resolved(ref);
    switch (t.kind) {
      case 'int': case 'float': case 'struct': case 'union': case 'enum': return t.size;
      case 'pointer': return this.pointerSize;
      case 'array': return t.length * this.sizeof(t.element);
      default: throw new TypeLookupError(`sizeof ${this.typeName(ref)}: incomplete type (${t.kind})`);
    }
  }

  offsetof(ref: TypeRef, path: string): number {
    return this.memberPath(ref, path).offset;
  }

  memberPath(ref: TypeRef, path: string): MemberLocation {
    const r = this.#walk(this.getType(ref), path);
    if ('miss' in r) throw new TypeLookupError(r.miss);
    return r;
  }

  tryMemberPath(ref: TypeRef, path: string): MemberLocation | null {
    const r = this.#walk(this.getType(ref), path);
    return 'miss' in r ? null : r;
  }

  hasMember(ref: TypeRef, path: string): boolean {
    return this.tryMemberPath(ref, path) !== null;
  }

  resolveMember(ref: TypeRef, paths: readonly string[]): ResolvedMember {
    const r = this.tryResolveMember(ref, paths);
    if (r === null) throw new TypeLookupError(`${this.typeName(ref)} has none of the members ${paths.map((p) => `'${p}'`).join(', ')}`);
    return r;
  }

  tryResolveMember(ref: TypeRef, paths: readonly string[]): ResolvedMember | null {
    const id = this.getType(ref);
    let perType = this.#aliasCache.get(id);
    if (!perType) this.#aliasCache.set(id, (perType = new Map()));
    const key = paths.join('\n');
    const hit = perType.get(key);
    if (hit !== undefined) return hit;
    let found: ResolvedMember | null = null;
    for (const path of paths) {
      const loc = this.tryMemberPath(id, path);
      if (loc) { found = { ...loc, path }; break; }
    }
    perType.set(key, found);
    return found;
  }

  members(ref: TypeRef): readonly FlatMember[] {
    return this.#flat(this.#compound(ref, `members of ${String(ref)}`)).list;
  }

  enumValue(name: string): bigint {
    const e = this.findEnumerator(name);
    if (!e) throw new TypeLookupError(`no enumerator named '${name}' in ${this.source}`);
    return e.value;
  }

  enumName(ref: TypeRef, value: bigint | number): string | null {
    const id = this.resolve(ref);
    const t = this.describe(id);
    if (t.kind !== 'enum') throw new TypeLookupError(`${this.typeName(ref)} is not an enum`);
    let byValue = this.#enumNames.get(id);
    if (!byValue) {
      byValue = new Map();
      for (const e of t.enumerators) if (!byValue.has(e.value)) byValue.set(e.value, e.name);
      this.#enumNames.set(id, byValue);
    }
    // The same bits read as signed or unsigned name the same constant.
    const v = BigInt(value);
    const bits = t.size * 8;
    return byValue.get(t.signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v)) ?? null;
  }

  /** The struct/union a ref resolves to, or a TypeLookupError saying what it is instead. */
  #compound(ref: TypeRef, what: string): CompoundType {
    const t = this.resolved(ref);
    if (t.kind !== 'struct' && t.kind !== 'union') throw new TypeLookupError(`${what}: ${this.typeName(ref)} is not a struct or union`);
    return t;
  }

  /** Members of a struct/union with anonymous aggregates spliced in, indexed by name (built once per type). */
  #flat(t: CompoundType): FlatIndex {
    const hit = this.#flatCache.get(t.id);
    if (hit) return hit;
    const list: FlatMember[] = [];
    const byName = new Map<string, FlatMember>();
    const add = (c: CompoundType, baseBits: number, inUnnamed: 'struct' | 'union' | null, depth: number): void => {
      if (depth > MAX_CHAIN) throw new TypeLookupError(`${this.source} type ${t.id}: anonymous members nest deeper than ${MAX_CHAIN}`);
      for (const m of c.members) {
        const bitOffset = baseBits + m.bitOffset;
        if (m.name === null) {
          const inner = this.resolved(m.type);
          if (inner.kind === 'struct' || inner.kind === 'union') add(inner, bitOffset, inner.kind, depth + 1);
          continue; // an unnamed non-aggregate is padding (`int :0`)
        }
        const fm: FlatMember = { name: m.name, type: m.type, offset: Math.floor(bitOffset / 8), bitOffset, bitSize: m.bitSize, inUnnamed };
        list.push(fm);
        if (!byName.has(m.name)) byName.set(m.name, fm);
      }
    };
    add(t, 0, null, 0);
    const idx: FlatIndex = { list, byName };
    this.#flatCache.set(t.id, idx);
    return idx;
  }

  /** Follow `a.b[2].c` from a type; cached per (type, path). */
  #walk(id: TypeId, path: string): MemberLocation | PathMiss {
    let perType = this.#pathCache.get(id);
    if (!perType) this.#pathCache.set(id, (perType = new Map()));
    const hit = perType.get(path);
    if (hit) return hit;
    const r = this.#walkUncached(id, path);
    perType.set(path, r);
    return r;
  }

  #walkUncached(id: TypeId, path: string): MemberLocation | PathMiss {
    const token = /\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/y;
    let cur = id, bits = 0, bitSize: number | null = null, pos = 0, seen = '';
    if (path.length === 0) throw new TypeLookupError(`empty member path for ${this.typeName(id)}`);
    while (pos < path.length) {
      token.lastIndex = pos;
      const m = token.exec(path);
      // A name needs a '.' before it except at the start; an index never has one.
      const dotted = path[pos] === '.';
      if (!m || (m[1] !== undefined && dotted !== (pos > 0))) throw new TypeLookupError(`bad member path '${path}' at column ${pos}`);
      pos = token.lastIndex;
      const here = seen ? `${this.typeName(id)}.${seen}` : this.typeName(id);
      const t = this.resolved(cur);
      if (m[1] !== undefined) {
        if (t.kind !== 'struct' && t.kind !== 'union') return { miss: `${here} is ${this.typeName(cur)}, not a struct or union: no member '${m[1]}'` };
        const fm = this.#flat(t).byName.get(m[1]);
        if (!fm) return { miss: `${here} (${this.typeName(cur)}) has no member '${m[1]}'` };
        bits += fm.bitOffset;
        bitSize = fm.bitSize;
        cur = fm.type;
      } else {
        const index = Number(m[2]);
        if (t.kind !== 'array') return { miss: `${here} is ${this.typeName(cur)}, not an array: cannot index [${index}]` };
        if (t.length > 0 && index >= t.length) return { miss: `${here}[${index}] is past the end of ${this.typeName(cur)}` };
        bits += index * this.sizeof(t.element) * 8;
        bitSize = null;
        cur = t.element;
      }
      seen = path.slice(0, pos);
    }
    return { offset: Math.floor(bits / 8), bitOffset: bits, bitSize, type: cur };
  }
}
