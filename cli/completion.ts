/**
 * Tab completion in the session: command names first, then the command's options, struct
 * members after a symbol (`init_task.se.vr`, `p runqueues:2 --member nr_r`, `tasktable --fields
 * se.vr`), and symbol names of the dump otherwise. Everything comes from the opened dump's own
 * symbols and types, so it fits whatever kernel the dump is of.
 */
import type { Vmcore } from '../src/vmcore.js';
import type { TypeId } from '../src/types/index.js';
import type { Session } from './session.js';

const COMMON_OPTIONS = ['--json', '--plain', '--script', '--help'];
/** options whose value is a member path of task_struct (tasktable) */
const TASK_FIELD_OPTIONS = new Set(['--fields', '--sort']);
/** without a prefix there are too many symbols to list */
const MIN_SYMBOL_PREFIX = 1;

export class Completer {
  #symbols: string[] | null = null;

  constructor(private readonly session: Session) {}

  /** readline's completer: [candidates, the fragment they complete] */
  complete(line: string): [string[], string] {
    try {
      return this.#complete(line);
    } catch {
      return [[], '']; // a dump that cannot answer (no types, excluded page) completes nothing
    }
  }

  #complete(line: string): [string[], string] {
    // the command being typed: after the last `;`, and nothing to complete after a `|`
    const cmd = line.slice(line.lastIndexOf(';') + 1);
    if (cmd.includes('|')) return [[], ''];
    const toks = cmd.trimStart().split(/\s+/);
    const word = toks[toks.length - 1];
    if (toks.length === 1) return [finished(starts(this.session.commandNames(), word)), word];
    const spec = this.session.command(toks[0])?.command;
    const prev = toks[toks.length - 2];
    if (word.startsWith('-')) {
      const flags = [...COMMON_OPTIONS, ...(spec?.options ?? []).flatMap((o) => o.flags.split(/[ ,]+/).filter((f) => f.startsWith('-')))];
      return [finished(starts([...new Set(flags)], word)), word];
    }
    const vm = this.session.vm;
    if (TASK_FIELD_OPTIONS.has(prev)) {
      // comma-separated member paths of task_struct
      const last = word.slice(word.lastIndexOf(',') + 1).replace(/^-/, '');
      return [memberPaths(vm, vm.types.getType('struct task_struct'), last), last];
    }
    if (prev === '--member' || prev === '-m') {
      const operand = toks.slice(1, -2).find((t) => !t.startsWith('-'));
      const t = operand ? typeOfExpr(vm, operand) : null;
      return [t === null ? [] : memberPaths(vm, t, word), word];
    }
    if (toks[0] === 'help') return [starts(this.session.commandNames(), word), word];
    const dot = Math.max(word.lastIndexOf('.'), word.lastIndexOf('->') >= 0 ? word.lastIndexOf('->') + 1 : -1);
    if (dot > 0) {
      const t = typeOfExpr(vm, word.slice(0, dot).replace(/-$/, ''));
      const prefix = word.slice(dot + 1);
      return [t === null ? [] : memberPaths(vm, t, prefix).map((m) => word.slice(0, dot + 1) + m), word];
    }
    if (word.length < MIN_SYMBOL_PREFIX) return [[], word];
    return [this.#symbolsStarting(word), word];
  }

  #symbolsStarting(prefix: string): string[] {
    if (!this.#symbols) {
      const names = new Set<string>();
      for (const s of this.session.vm.symbols.all()) names.add(s.name);
      this.#symbols = [...names].sort();
    }
    const all = this.#symbols;
    // binary search for the first name >= prefix, then take the run that starts with it
    let lo = 0;
    let hi = all.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (all[mid] < prefix) lo = mid + 1; else hi = mid; }
    const out: string[] = [];
    for (let i = lo; i < all.length && all[i].startsWith(prefix); i++) out.push(all[i]);
    return out;
  }
}

/** a single command or option candidate is a whole word: a space follows it, as in a shell */
function finished(list: string[]): string[] {
  return list.length === 1 ? [`${list[0]} `] : list;
}

function starts(list: string[], prefix: string): string[] {
  return list.filter((x) => x.startsWith(prefix)).sort();
}

/** the struct or union a type is or points to, or null */
function aggregate(vm: Vmcore, t: TypeId): TypeId | null {
  const d = vm.types.resolved(t);
  if (d.kind === 'struct' || d.kind === 'union') return d.id;
  if (d.kind === 'pointer' || d.kind === 'array') {
    const inner = vm.types.resolved(d.kind === 'pointer' ? d.target : d.element);
    return inner.kind === 'struct' || inner.kind === 'union' ? inner.id : null;
  }
  return null;
}

/** the type of `sym`, `sym:cpu`, `sym.a.b`, `sym->a` (a variable of the dump and a member path) */
export function typeOfExpr(vm: Vmcore, expr: string): TypeId | null {
  const m = /^([A-Za-z_]\w*)(?::\w+)?((?:\.|->|\[\d+\]|\w)*)$/.exec(expr);
  if (!m) return null;
  // the variable's type as `p` finds it: DWARF/BTF, else the well-known globals (BTF has no global variables)
  let t: TypeId;
  try { t = vm.object(m[1]).type; } catch { return null; }
  for (const name of m[2].split(/\.|->/).filter(Boolean)) {
    const agg = aggregate(vm, t);
    if (agg === null) return null;
    const loc = vm.types.tryMemberPath(agg, name.replace(/\[\d+\]$/, ''));
    if (!loc) return null;
    t = loc.type;
  }
  return t;
}

/** the member names of the aggregate `t` is or points to that start with `prefix` (`se.vr`: through nested members) */
function memberPaths(vm: Vmcore, t: TypeId, prefix: string): string[] {
  const dot = prefix.lastIndexOf('.');
  let agg = aggregate(vm, t);
  let head = '';
  if (dot >= 0) {
    head = prefix.slice(0, dot + 1);
    const loc = agg === null ? null : vm.types.tryMemberPath(agg, prefix.slice(0, dot));
    agg = loc ? aggregate(vm, loc.type) : null;
  }
  if (agg === null) return [];
  const rest = prefix.slice(dot + 1);
  return starts([...new Set(vm.types.members(agg).map((m) => m.name))], rest).map((n) => head + n);
}
