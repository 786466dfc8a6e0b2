/**
 * vaat p: print a variable or a member path with its type, crash-style:
 * `vaat p init_task.comm`, `vaat p jiffies`, `vaat p runqueues:2 --member nr_running`, `runqueues:a`.
 */
import { defineCommand, scriptPrelude } from '../src/plugin.js';
import type { KObject } from '../src/object/kobject.js';
import { hex } from '../src/output/style.js';
import { UsageError } from '../src/errors/index.js';
import { forEachPossibleCpu } from '../src/kernel/cpu.js';

interface PValue { cpu: number | null; expr: string; type: string; address: string; value: unknown }
interface POptions { member?: string; depth?: string; type?: string }

/** `name[:cpu|:a][.path]` → its parts */
export function parsePrintExpr(expr: string): { name: string; cpus: 'all' | number | null; path: string } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::(\d+|a))?((?:\.|->|\[).*)?$/.exec(expr.trim());
  if (!m) throw new UsageError(`cannot parse expression '${expr}'`);
  return { name: m[1], cpus: m[2] === undefined ? null : m[2] === 'a' ? 'all' : Number(m[2]), path: (m[3] ?? '').replace(/^\.|^->/, '') };
}

function valueOf(obj: KObject, depth: number): unknown {
  const kind = obj.kind;
  if (kind === 'array') {
    const el = obj.ctx.types.resolved((obj.ctx.types.resolved(obj.type) as { element: number }).element);
    if (el.kind === 'int' && el.isChar) return obj.string();
  }
  if (kind === 'pointer') return hex(obj.pointer());
  if (kind === 'int' || kind === 'enum') return obj.value();
  return obj.read(depth);
}

export default defineCommand<POptions, PValue[]>({
  name: 'p',
  summary: 'print a kernel variable or member path with its type',
  args: '<expr>',
  options: [
    { flags: '-m, --member <path>', description: 'member path inside the variable' },
    { flags: '--type <type>', description: 'the variable\'s type, when BTF does not know it' },
    { flags: '--depth <n>', description: 'levels of nested structs to expand', default: '1' },
  ],
  run({ vm, args, options }) {
    if (!args[0]) throw new UsageError('p needs an expression, e.g. init_task.comm');
    const { name, cpus, path: p0 } = parsePrintExpr(args[0]);
    const path = [p0, options.member ?? ''].filter(Boolean).join('.');
    const depth = Number.parseInt(options.depth ?? '1', 10);
    // every possible CPU: the mask can be sparse, and CPUs past the online ones still have per-CPU areas
    const cpuList = cpus === null ? [null] : cpus === 'all' ? forEachPossibleCpu(vm) : [cpus];
    return cpuList.map((cpu) => {
      let obj = cpu === null ? vm.object(name, options.type) : vm.perCpu(name, cpu, options.type);
      if (path) obj = obj.member(path);
      return { cpu, expr: path ? `${name}.${path}` : name, type: obj.typeName, address: hex(obj.address), value: valueOf(obj, depth) };
    });
  },
  script({ file, args, options }) {
    const { name, cpus, path } = parsePrintExpr(args[0] ?? 'init_task.comm');
    const member = [path, options.member ?? ''].filter(Boolean).join('.');
    const obj = cpus === null ? `vm.object(${JSON.stringify(name)})` : `vm.perCpu(${JSON.stringify(name)}, ${cpus === 'all' ? 'cpu' : cpus})`;
    const expr = member ? `${obj}.member(${JSON.stringify(member)})` : obj;
    const body = `const o = ${expr};\nconsole.log(o.typeName, o.kind === 'array' || o.kind === 'pointer' ? o.string() : o.read(1));\n`;
    return cpus === 'all' ? scriptPrelude(file, ['forEachPossibleCpu']) + `for (const cpu of forEachPossibleCpu(vm)) {\n  ${body.replace(/\n(?=.)/g, '\n  ')}}\n` : scriptPrelude(file) + body;
  },
  render(rows, out) {
    for (const r of rows) {
      const where = r.cpu === null ? '' : out.c.dim(`[${r.cpu}]: `);
      const v = typeof r.value === 'object' && r.value !== null
        ? JSON.stringify(r.value, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)
        : typeof r.value === 'string' && r.type.includes('char') ? JSON.stringify(r.value) : String(r.value);
      out.line(`${where}${out.c.dim(`(${r.type})`)} ${r.expr} = ${v}`);
    }
  },
});
