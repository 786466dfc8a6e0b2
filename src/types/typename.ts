/**
 * C spelling of a type from its description, built declarator-style so pointers to arrays and
 * functions come out right: `char [16]`, `struct cgroup *[]`, `const char *`, `void (*)(int)`.
 * Qualifiers travel down to what they qualify (a const array is an array of const elements, and
 * BTF may say so twice); base-type names are canonical (`unsigned long`); BTF type tags are not shown.
 */
import { TypeLookupError } from './errors.js';
import { canonicalBaseName } from './names.js';
import type { TypeDesc, TypeId } from './typeinfo.js';

/** Deeper than any real declarator; only corrupt data (a qualifier loop) gets here. */
const MAX_DEPTH = 64;

type Qualifiers = ReadonlySet<'const' | 'volatile' | 'restrict'>;
const NONE: Qualifiers = new Set();

export function formatTypeName(describe: (id: TypeId) => TypeDesc, id: TypeId): string {
  const base = (name: string, inner: string, quals: Qualifiers): string => {
    const q = quals.size ? `${[...quals].join(' ')} ` : '';
    return inner ? `${q}${name} ${inner}` : `${q}${name}`;
  };

  const fmt = (tid: TypeId, inner: string, quals: Qualifiers, depth: number): string => {
    if (depth > MAX_DEPTH) throw new TypeLookupError(`type ${id}: declarator nests deeper than ${MAX_DEPTH}`);
    const t = describe(tid);
    switch (t.kind) {
      case 'void': return base('void', inner, quals);
      case 'int': case 'float': return base(canonicalBaseName(t.name ?? '<anonymous>'), inner, quals);
      case 'struct': case 'union': case 'enum': return base(`${t.kind} ${t.name ?? '<anonymous>'}`, inner, quals);
      case 'fwd': return base(`${t.of} ${t.name ?? '<anonymous>'}`, inner, quals);
      case 'typedef': return base(t.name, inner, quals);
      case 'qualifier':
        return fmt(t.target, inner, t.qualifier === 'tag' ? quals : new Set([...quals, t.qualifier]), depth + 1);
      case 'pointer': {
        // Qualifiers of the pointer itself bind to its `*`: `char *const`.
        const star = quals.size ? `*${[...quals].join(' ')}${inner ? ' ' : ''}${inner}` : `*${inner}`;
        let target = describe(t.target);
        for (let n = 0; target.kind === 'qualifier' && n < MAX_DEPTH; n++) target = describe(target.target);
        const wrap = target.kind === 'array' || target.kind === 'function';
        return fmt(t.target, wrap ? `(${star})` : star, NONE, depth + 1);
      }
      case 'array': return fmt(t.element, `${inner}[${t.length || ''}]`, quals, depth + 1);
      case 'function': {
        const params = t.params.map((p) => fmt(p.type, '', NONE, depth + 1));
        if (t.variadic) params.push('...');
        return fmt(t.returnType, `${inner}(${params.length ? params.join(', ') : 'void'})`, NONE, depth + 1);
      }
    }
  };
  return fmt(id, '', NONE, 0);
}
