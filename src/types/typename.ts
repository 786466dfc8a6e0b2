/**
 * C spelling of a type from its description, built declarator-style so pointers to arrays and
 * functions come out right: `char [16]`, `struct cgroup *[]`, `const char *`, `void (*)(int)`.
 * Base-type names are canonical (`unsigned long`, not `long unsigned int`); BTF type tags are not shown.
 */
import { TypeLookupError } from './errors.js';
import { canonicalBaseName } from './names.js';
import type { TypeDesc, TypeId } from './typeinfo.js';

/** Deeper than any real declarator; only corrupt data (a qualifier loop) gets here. */
const MAX_DEPTH = 64;

export function formatTypeName(describe: (id: TypeId) => TypeDesc, id: TypeId): string {
  const withInner = (base: string, inner: string): string => (inner ? `${base} ${inner}` : base);

  const fmt = (tid: TypeId, inner: string, depth: number): string => {
    if (depth > MAX_DEPTH) throw new TypeLookupError(`type ${id}: declarator nests deeper than ${MAX_DEPTH}`);
    const t = describe(tid);
    switch (t.kind) {
      case 'void': return withInner('void', inner);
      case 'int': case 'float': return withInner(canonicalBaseName(t.name ?? '<anonymous>'), inner);
      case 'struct': case 'union': case 'enum': return withInner(`${t.kind} ${t.name ?? '<anonymous>'}`, inner);
      case 'fwd': return withInner(`${t.of} ${t.name ?? '<anonymous>'}`, inner);
      case 'typedef': return withInner(t.name, inner);
      case 'pointer': {
        const target = describe(t.target);
        const wrap = target.kind === 'array' || target.kind === 'function';
        return fmt(t.target, wrap ? `(*${inner})` : `*${inner}`, depth + 1);
      }
      case 'array': return fmt(t.element, `${inner}[${t.length || ''}]`, depth + 1);
      case 'function': {
        const params = t.params.map((p) => fmt(p.type, '', depth + 1));
        if (t.variadic) params.push('...');
        return fmt(t.returnType, `${inner}(${params.length ? params.join(', ') : 'void'})`, depth + 1);
      }
      case 'qualifier': {
        if (t.qualifier === 'tag') return fmt(t.target, inner, depth + 1);
        // A qualified pointer binds to the `*`: `char *const`.
        if (describe(t.target).kind === 'pointer') return fmt(t.target, inner ? `${t.qualifier} ${inner}` : t.qualifier, depth + 1);
        return `${t.qualifier} ${fmt(t.target, inner, depth + 1)}`;
      }
    }
  };
  return fmt(id, '', 0);
}
