/** vaat struct: a struct or union's layout with member offsets and sizes (crash `struct -o`, pahole). */
import { defineCommand, scriptPrelude } from '../src/plugin.js';
import { UsageError } from '../src/errors/index.js';

interface StructMember {
  name: string | null;
  type: string;
  offset: number;
  size: number;
  /** for bitfields: bit position inside the struct and width */
  bitOffset?: number;
  bitSize?: number;
}
interface StructResult { name: string; kind: string; size: number; source: string; members: StructMember[] }

export default defineCommand<{ offsets?: boolean }, StructResult>({
  name: 'struct',
  summary: 'layout of a struct or union: member offsets and sizes',
  args: '<name>',
  options: [{ flags: '-o, --offsets', description: 'show offsets (always in --json)' }],
  run({ vm, args }) {
    if (!args[0]) throw new UsageError('struct needs a type name, e.g. task_struct');
    const types = vm.types;
    const id = types.getType(args[0]);
    const t = types.resolved(id);
    if (t.kind !== 'struct' && t.kind !== 'union') throw new UsageError(`${types.typeName(id)} is a ${t.kind}, not a struct or union`);
    // Direct members, as declared: anonymous struct/union members keep their place (pahole's view).
    const members = t.members.map((m): StructMember => ({
      name: m.name,
      type: types.typeName(m.type),
      offset: m.offset,
      size: m.bitSize !== null ? 0 : types.sizeof(m.type),
      ...(m.bitSize !== null ? { bitOffset: m.bitOffset, bitSize: m.bitSize } : {}),
    }));
    return { name: types.typeName(id), kind: t.kind, size: t.size, source: types.source, members };
  },
  script({ file, args }) {
    return `${scriptPrelude(file)}const t = vm.types;
// direct members as declared: an anonymous struct or union is one member (name null), as pahole shows it
const s = t.resolved(t.getType(${JSON.stringify(args[0] ?? 'task_struct')}));
for (const m of s.members) console.log(m.offset, t.typeName(m.type), m.name);
console.log('size', s.size);
`;
  },
  render(r, out, opts) {
    const c = out.c;
    out.line(`${c.bold(r.name)} {`);
    const w = Math.max(...r.members.map((m) => m.type.length), 8);
    for (const m of r.members) {
      const off = opts.offsets ? c.dim(`[0x${m.offset.toString(16)}] `.padStart(9)) : '';
      const bits = m.bitSize !== undefined ? ` : ${m.bitSize}` : '';
      const size = m.bitSize !== undefined ? `bit ${m.bitOffset! - m.offset * 8}` : `${m.size}`;
      out.line(`  ${off}${m.type.padEnd(w)} ${m.name ?? '<anonymous>'}${bits};  ${c.dim(`/* ${size} */`)}`);
    }
    out.line(`}`);
    out.line(`SIZE: ${r.size}`);
  },
});
