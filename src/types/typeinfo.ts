/**
 * TypeInfo: what the rest of vaat knows about C types, independent of where they came from
 * (BTF today, DWARF later). Types are named by opaque numeric ids that are only meaningful to
 * the TypeInfo that issued them; descriptions are plain, read-only objects.
 */

/** An opaque handle for a type inside one TypeInfo. */
export type TypeId = number;

/** A type given by id or by C name (`'struct task_struct'`, `'spinlock_t'`, `'unsigned long'`). */
export type TypeRef = TypeId | string;

export type TypeKind =
  | 'void' | 'int' | 'float' | 'pointer' | 'array' | 'struct' | 'union' | 'enum'
  | 'fwd' | 'typedef' | 'qualifier' | 'function';

interface TypeCommon {
  readonly id: TypeId;
  /** null for anonymous types and for kinds that never carry a name (pointer, array...) */
  readonly name: string | null;
}

export interface VoidType extends TypeCommon { readonly kind: 'void' }

export interface IntType extends TypeCommon {
  readonly kind: 'int';
  readonly size: number;
  readonly signed: boolean;
  /** a character type: flagged so by the source, or spelled char / signed char / unsigned char */
  readonly isChar: boolean;
  readonly isBool: boolean;
  /** value bits (normally size * 8) */
  readonly bits: number;
}

export interface FloatType extends TypeCommon { readonly kind: 'float'; readonly size: number }

export interface PointerType extends TypeCommon { readonly kind: 'pointer'; readonly target: TypeId }

export interface ArrayType extends TypeCommon {
  readonly kind: 'array';
  readonly element: TypeId;
  /** 0 for a flexible array member (`struct cgroup *ancestors[]`) */
  readonly length: number;
}

/** A direct member of a struct or union, as declared. */
export interface Member {
  /** null for an anonymous struct/union member (its members are reachable by name through it) */
  readonly name: string | null;
  readonly type: TypeId;
  /** byte holding the member's first bit, from the start of the containing type */
  readonly offset: number;
  /** bits from the start of the containing type */
  readonly bitOffset: number;
  /** width of a bitfield, null for ordinary members */
  readonly bitSize: number | null;
}

export interface CompoundType extends TypeCommon {
  readonly kind: 'struct' | 'union';
  readonly size: number;
  readonly members: readonly Member[];
}

export interface Enumerator { readonly name: string; readonly value: bigint }

export interface EnumType extends TypeCommon {
  readonly kind: 'enum';
  readonly size: number;
  readonly signed: boolean;
  readonly enumerators: readonly Enumerator[];
}

/** A declared but not defined struct/union/enum. */
export interface FwdType extends TypeCommon { readonly kind: 'fwd'; readonly of: 'struct' | 'union' | 'enum' }

export interface TypedefType extends TypeCommon { readonly kind: 'typedef'; readonly name: string; readonly target: TypeId }

/** const/volatile/restrict, or a source-specific annotation (BTF type tag) that does not change layout. */
export interface QualifiedType extends TypeCommon {
  readonly kind: 'qualifier';
  readonly qualifier: 'const' | 'volatile' | 'restrict' | 'tag';
  /** the annotation for qualifier 'tag' (e.g. `__user`, `__rcu`) */
  readonly tag?: string;
  readonly target: TypeId;
}

export interface Parameter { readonly name: string | null; readonly type: TypeId }

export interface FunctionType extends TypeCommon {
  readonly kind: 'function';
  readonly returnType: TypeId;
  readonly params: readonly Parameter[];
  readonly variadic: boolean;
}

export type TypeDesc =
  | VoidType | IntType | FloatType | PointerType | ArrayType | CompoundType | EnumType
  | FwdType | TypedefType | QualifiedType | FunctionType;

/** Where a member path lands inside a type. */
export interface MemberLocation {
  /** byte holding the first bit */
  readonly offset: number;
  /** bits from the start of the outer type (offset * 8 for non-bitfields) */
  readonly bitOffset: number;
  readonly bitSize: number | null;
  readonly type: TypeId;
}

/** A member reached through a field-alias chain: which alternative matched. */
export interface ResolvedMember extends MemberLocation { readonly path: string }

/** A member of a struct/union with anonymous struct/union members flattened in place. */
export interface FlatMember extends MemberLocation {
  readonly name: string;
  /** kind of the innermost anonymous aggregate holding it, null when it is a direct member */
  readonly inUnnamed: 'struct' | 'union' | null;
}

export interface EnumeratorRef extends Enumerator { readonly enumType: TypeId }

export interface FunctionSymbol {
  readonly name: string;
  /** a 'function' type */
  readonly type: TypeId;
  readonly linkage: 'static' | 'global' | 'extern';
}

export interface VariableSymbol {
  readonly name: string;
  readonly type: TypeId;
  readonly linkage: 'static' | 'global' | 'extern';
  /** section holding it and its offset there, when the source knows (BTF DATASEC: `.data..percpu`) */
  readonly section: string | null;
  readonly sectionOffset: number | null;
}

export interface FindTypeOptions {
  /** only the exact C spelling: `task_struct` does not fall back to `struct task_struct` */
  readonly exact?: boolean;
}

export interface TypeInfo {
  /** 'btf', 'dwarf'... for messages */
  readonly source: string;
  readonly pointerSize: number;

  /** Describe a type by id; throws TypeLookupError for an id this source did not issue. */
  describe(id: TypeId): TypeDesc;
  /** Look a type up by C name; null when absent. Tolerant unless `exact`: bare `foo` tries typedef/base type, then struct, union, enum. */
  findType(name: string, opts?: FindTypeOptions): TypeId | null;
  /** findType that throws TypeLookupError when absent. */
  getType(ref: TypeRef): TypeId;
  /** Strip typedefs and qualifiers. */
  resolve(ref: TypeRef): TypeId;
  /** describe(resolve(ref)) */
  resolved(ref: TypeRef): TypeDesc;
  /** C spelling of a type: `char [16]`, `struct css_set *`, `const char *`. */
  typeName(ref: TypeRef): string;

  /** `T *`: a pointer type to `ref`, derived when the data has none (ids from DERIVED_TYPE_BASE up). */
  pointerTo(ref: TypeRef): TypeId;
  /** `T [length]` (0: `T []`), derived the same way. */
  arrayOf(ref: TypeRef, length: number): TypeId;

  sizeof(ref: TypeRef): number;
  offsetof(ref: TypeRef, path: string): number;
  /** `'se.vruntime'`, `'cpus_mask.bits[1]'`; anonymous struct/union members are searched through. Throws when absent. */
  memberPath(ref: TypeRef, path: string): MemberLocation;
  tryMemberPath(ref: TypeRef, path: string): MemberLocation | null;
  hasMember(ref: TypeRef, path: string): boolean;
  /** The first path of a field-alias chain that exists (kernel renames: `['__state', 'state']`). Throws when none does. */
  resolveMember(ref: TypeRef, paths: readonly string[]): ResolvedMember;
  tryResolveMember(ref: TypeRef, paths: readonly string[]): ResolvedMember | null;
  /** Members with anonymous aggregates flattened in place, in declaration order. */
  members(ref: TypeRef): readonly FlatMember[];

  /** The value of an enumerator found by name across all enums; throws when absent. */
  enumValue(name: string): bigint;
  findEnumerator(name: string): EnumeratorRef | null;
  /** The enumerator name for a value of an enum type, null when no constant has it. */
  enumName(ref: TypeRef, value: bigint | number): string | null;

  findFunction(name: string): FunctionSymbol | null;
  findVariable(name: string): VariableSymbol | null;
}
