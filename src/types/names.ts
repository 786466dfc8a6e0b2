/**
 * C type-name spelling: split a query like `struct task_struct` into tag namespace and name, and
 * put base-type names in one canonical form so `long unsigned int` (how DWARF and BTF spell it)
 * and `unsigned long` (how people type it) meet.
 */

export type TagKind = 'struct' | 'union' | 'enum';

export interface ParsedTypeName {
  /** null: the ordinary namespace (typedefs, base types) */
  readonly tag: TagKind | null;
  readonly name: string;
}

const INT_WORDS = new Set(['signed', 'unsigned', 'short', 'long', 'int', 'char', '__int128']);

/** `long unsigned int` → `unsigned long`; names that are not a C integer spelling come back unchanged. */
export function canonicalBaseName(name: string): string {
  const words = name.trim().split(/\s+/);
  if (words.length === 0 || !words.every((w) => INT_WORDS.has(w))) return words.join(' ');
  let longs = 0, signed = false, unsigned = false, short = false, char = false, int128 = false;
  for (const w of words) {
    if (w === 'long') longs++;
    else if (w === 'signed') signed = true;
    else if (w === 'unsigned') unsigned = true;
    else if (w === 'short') short = true;
    else if (w === 'char') char = true;
    else if (w === '__int128') int128 = true;
  }
  const u = unsigned ? 'unsigned ' : '';
  if (int128) return `${u}__int128`;
  if (char) return unsigned ? 'unsigned char' : signed ? 'signed char' : 'char';
  if (short) return `${u}short`;
  if (longs >= 2) return `${u}long long`;
  if (longs === 1) return `${u}long`;
  return `${u}int`;
}

/** Split `struct foo` / `union foo` / `enum foo` / `foo`; base-type names are canonicalised. */
export function parseTypeName(query: string): ParsedTypeName {
  const q = query.trim().replace(/\s+/g, ' ');
  const m = /^(struct|union|enum) (.+)$/.exec(q);
  if (m) return { tag: m[1] as TagKind, name: m[2] };
  return { tag: null, name: canonicalBaseName(q) };
}

/** The key a name index files a type under: `struct foo`, `enum bar`, `spinlock_t`, `unsigned long`. */
export function nameKey(tag: TagKind | null, name: string): string {
  return tag ? `${tag} ${name}` : name;
}
