/**
 * vaat tasktable: many objects of one type as a table of chosen fields — every task by default,
 * or each CPU's copy of a per-CPU variable (`--percpu runqueues --fields nr_running,clock`) —
 * with sorting, filtering, and numeric outliers (robust z-score) highlighted and explained.
 */
import { defineCommand, scriptPrelude } from '../src/plugin.js';
import type { Vmcore } from '../src/vmcore.js';
import { integerReader, KObject } from '../src/object/kobject.js';
import { hex } from '../src/output/style.js';
import { plainBigint } from '../src/output/json.js';
import { eachTask, listTasks, type Task } from '../src/kernel/tasks.js';
import { cpuMask } from '../src/kernel/cpu.js';
import { AddressNotMappedError, ExcludedPageError, UsageError } from '../src/errors/index.js';

interface TasktableOptions { fields?: string; sort?: string; filter?: string; percpu?: string; type?: string; limit?: string }

export type Value = number | string | boolean | null;

export interface Outlier { row: number; field: string; value: number; z: number }

export interface TasktableResult {
  source: 'tasks' | 'percpu';
  /** the objects' C type */
  type: string;
  /** the per-CPU variable, for --percpu */
  variable: string | null;
  fields: string[];
  rows: Record<string, Value>[];
  /** |z| > 3.5 by the modified z-score 0.6745·(x − median)/MAD (MAD 0: mean absolute deviation × 1.2533) */
  outliers: Outlier[];
  /** fields not used for outliers: identifiers and non-numeric */
  notScored: string[];
}

const DEFAULT_TASK_FIELDS = 'pid,comm,state,cpu,prio,se.sum_exec_runtime,nvcsw,nivcsw';
const DEFAULT_PERCPU_FIELDS = 'nr_running,clock';
const Z_LIMIT = 3.5;
/** identity columns: never outliers */
const IDENTIFIERS = new Set(['pid', 'tgid', 'ppid', 'cpu', 'task']);

/** fields the task walker already decoded (state as its letter, cpu as task_cpu()) */
const TASK_FIELDS: Readonly<Record<string, (t: Task) => Value>> = {
  pid: (t) => t.pid, tgid: (t) => t.tgid, ppid: (t) => t.ppid, comm: (t) => t.comm, state: (t) => t.state,
  cpu: (t) => t.cpu, prio: (t) => t.prio, static_prio: (t) => t.staticPrio, nice: (t) => t.nice, policy: (t) => t.policy,
  flags: (t) => hex(t.flags), cgroup: (t) => t.cgroup, kthread: (t) => t.isKthread, task: (t) => hex(t.address),
};

/** a member's value as a table cell: numbers, hex pointers, strings; aggregates are refused */
export function cellValue(obj: KObject): Value {
  const t = obj.ctx.types.resolved(obj.type);
  if (t.kind === 'pointer') return hex(obj.pointer());
  if (t.kind === 'int' && t.isBool) return obj.bool();
  if (t.kind === 'int' || t.kind === 'enum') {
    const v = obj.value();
    if (t.kind === 'enum') { const n = obj.ctx.types.enumName(obj.type, v); if (n) return n; }
    return typeof v === 'bigint' ? plainBigint(v) : v;
  }
  if (t.kind === 'array') {
    const el = obj.ctx.types.resolved(t.element);
    if (el.kind === 'int' && el.isChar) return obj.string();
  }
  // atomic_t / atomic_long_t and other one-member wrappers read as their member
  if (t.kind === 'struct' || t.kind === 'union') {
    const ms = obj.ctx.types.members(obj.type);
    if (ms.length === 1) return cellValue(obj.member(ms[0].name));
  }
  throw new UsageError(`${obj.typeName} is not a scalar: name a member inside it`);
}

/** `state=D`, `cpu!=0`, `prio<120`, `comm~^kworker`; several joined by ',' or '&&' */
export function parseFilter(expr: string): ((row: Record<string, Value>) => boolean)[] {
  return expr.split(/\s*(?:&&|,)\s*(?=[\w.[\]]+\s*(?:!=|<=|>=|=|<|>|~))/).filter(Boolean).map((cond) => {
    const m = /^([\w.[\]]+)\s*(!=|<=|>=|=|<|>|~)\s*(.*)$/.exec(cond.trim());
    if (!m) throw new UsageError(`cannot parse filter '${cond}': use field=value, !=, <, <=, >, >=, ~regex`);
    const [, field, op, raw] = m;
    const re = op === '~' ? new RegExp(raw) : null;
    return (row) => {
      const v = row[field];
      if (re) return re.test(String(v));
      const num = Number(raw);
      const numeric = typeof v === 'number' && raw !== '' && !Number.isNaN(num);
      const a: number | string = numeric ? (v as number) : String(v);
      const b: number | string = numeric ? num : raw;
      switch (op) {
        case '=': return a === b;
        case '!=': return a !== b;
        case '<': return a < b;
        case '<=': return a <= b;
        case '>': return a > b;
        default: return a >= b;
      }
    };
  });
}

/** the median of numbers in a typed array it may reorder (a typed array sorts numerically, in place, without a comparator) */
function medianInPlace(xs: Float64Array): number {
  xs.sort();
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

/** modified z-scores (Iglewicz & Hoaglin) of a column; null where the spread is zero */
export function robustZ(values: ArrayLike<number>): number[] | null {
  const n = values.length;
  if (n < 3) return null;
  const xs = Float64Array.from(values);
  const med = medianInPlace(Float64Array.from(xs));
  const dev = new Float64Array(n);
  for (let i = 0; i < n; i++) dev[i] = Math.abs(xs[i] - med);
  let sumAd = 0;
  for (let i = 0; i < n; i++) sumAd += dev[i];
  const mad = medianInPlace(dev);
  if (mad > 0) return Array.from(xs, (x) => (0.6745 * (x - med)) / mad);
  const meanAd = sumAd / n;
  return meanAd > 0 ? Array.from(xs, (x) => (x - med) / (1.253314 * meanAd)) : null;
}

function findOutliers(rows: Record<string, Value>[], fields: string[]): { outliers: Outlier[]; notScored: string[] } {
  const outliers: Outlier[] = [];
  const notScored: string[] = [];
  // one pass per field over the rows, into typed arrays (on 20,000 tasks a [row, value] pair per
  // cell and sorted copies of plain arrays cost more than the walk's decode)
  const rowOf = new Int32Array(rows.length);
  const vals = new Float64Array(rows.length);
  for (const f of fields) {
    if (IDENTIFIERS.has(f)) { notScored.push(f); continue; }
    let n = 0;
    let other = false;
    for (let i = 0; i < rows.length; i++) {
      const v = rows[i][f];
      if (typeof v === 'number') { rowOf[n] = i; vals[n++] = v; } else if (v !== null) other = true;
    }
    if (n === 0 || other) { notScored.push(f); continue; }
    const z = robustZ(vals.subarray(0, n));
    if (!z) continue;
    for (let k = 0; k < n; k++) {
      if (Math.abs(z[k]) > Z_LIMIT) outliers.push({ row: rowOf[k], field: f, value: vals[k], z: Math.round(z[k] * 100) / 100 });
    }
  }
  return { outliers, notScored };
}

function compareText(a: string, b: string): number { return a < b ? -1 : a > b ? 1 : 0; }

function sortRows(rows: Record<string, Value>[], key: string): void {
  const desc = key.startsWith('-');
  const f = desc ? key.slice(1) : key;
  rows.sort((a, b) => {
    const x = a[f];
    const y = b[f];
    // numbers numerically; anything else by its text, compared by code unit (localeCompare costs ~1 µs a call)
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : compareText(String(x), String(y));
    return desc ? -c : c;
  });
}

/** a member's cell (of `obj`, or `obj` itself without a path); null (unknown) when its bytes are not in the dump */
function memberValue(obj: KObject, path?: string): Value {
  try { return cellValue(path === undefined ? obj : obj.member(path)); } catch (e) { if (e instanceof ExcludedPageError || e instanceof AddressNotMappedError) return null; throw e; }
}

/**
 * Member fields inside the task_struct itself (no pointer followed) are read with ONE read per
 * task of the span they cover, not the whole 9-10 KiB task_struct, right after the task walk
 * read the same task (its pages still in the page cache): on 20,000 tasks no page is decoded
 * twice, where the whole struct after the walk decoded every task's pages a second time. When
 * part of the span was left out of the dump, the task's members are read one by one.
 */
function taskRows(vm: Vmcore, fields: string[]): Record<string, Value>[] {
  const T = 'struct task_struct';
  const memberFields = fields.filter((f) => !(f in TASK_FIELDS));
  const inline = memberFields.map((f) => {
    const loc = /^[\w.]+$/.test(f) ? vm.types.tryMemberPath(T, f) : null;
    return loc && vm.types.resolved(loc.type).kind !== 'pointer' ? { loc, offset: loc.offset, end: loc.offset + Math.max(1, vm.types.sizeof(loc.type)) } : null;
  });
  // each inline field's location, resolved once: the member object is made from it per task; a
  // plain integer (the counters and clocks most tables show) is read straight from the span's
  // bytes, as cellValue() reads it, without a member object per task and field
  const inlineOf = new Map(memberFields.map((f, i) => {
    const loc = inline[i]?.loc;
    return [f, loc ? { loc, read: loc.bitSize === null ? integerReader(vm.types, loc.type) : null } : null];
  }));
  const spans = inline.filter((x) => x !== null);
  const spanStart = spans.length ? Math.min(...spans.map((x) => x.offset)) : 0;
  const spanEnd = spans.length ? Math.max(...spans.map((x) => x.end)) : 0;
  const typeId = vm.types.getType(T);
  // one buffer for every task's span: a row keeps the values read from it, never the bytes
  const span = spans.length ? Buffer.allocUnsafe(spanEnd - spanStart) : null;
  const spanOffset = BigInt(spanStart);
  // each task's fields are read right after the walk decoded it, while its pages are still cached
  const walk = memberFields.length ? eachTask(vm) : listTasks(vm);
  return Array.from(walk, (t) => {
    const row: Record<string, Value> = {};
    let snap: { base: bigint; buf: Buffer } | null = null;
    // only the span is in the snapshot: a field outside it (through a pointer) is read on its own
    if (span) {
      const base = t.address + spanOffset;
      try { vm.dump.readVirtInto(base, span); snap = { base, buf: span }; }
      catch (e) { if (!(e instanceof ExcludedPageError || e instanceof AddressNotMappedError)) throw e; }
    }
    // the task as an object, made when a field needs one (plain integers are read from the span's bytes)
    let obj: KObject | null = null;
    const task = (): KObject => (obj ??= snap ? new KObject(vm, typeId, t.address, 0, null, snap) : vm.objectAt(t.address, T));
    for (const f of fields) {
      if (f in TASK_FIELDS) { row[f] = TASK_FIELDS[f](t); continue; }
      const m = snap ? inlineOf.get(f) : null;
      if (m?.read) {
        const v = m.read(snap!.buf, m.loc.offset - spanStart);
        row[f] = typeof v === 'bigint' ? plainBigint(v) : v;
        continue;
      }
      // an inline member straight from the snapshot: what obj.member(f) makes, without parsing the path per task
      row[f] = m
        ? memberValue(new KObject(vm, m.loc.type, t.address + BigInt(m.loc.offset), m.loc.bitOffset - m.loc.offset * 8, m.loc.bitSize, snap))
        : memberValue(task(), f);
    }
    return row;
  });
}

function perCpuRows(vm: Vmcore, name: string, fields: string[], type?: string): { rows: Record<string, Value>[]; typeName: string } {
  let typeName = '';
  const rows = cpuMask(vm, 'possible').map((cpu) => {
    const obj = vm.perCpu(name, cpu, type).snapshot();
    typeName = obj.typeName;
    const row: Record<string, Value> = { cpu };
    for (const f of fields) if (f !== 'cpu') row[f] = cellValue(obj.member(f));
    return row;
  });
  return { rows, typeName };
}

export default defineCommand<TasktableOptions, TasktableResult>({
  name: 'tasktable',
  jsonl: 'rows',
  summary: 'a table of chosen fields of every task (or each CPU\'s copy of a per-CPU variable), sorted, filtered, outliers marked',
  options: [
    { flags: '--fields <list>', description: `comma-separated member paths (tasks default: ${DEFAULT_TASK_FIELDS}; --percpu default: ${DEFAULT_PERCPU_FIELDS})` },
    { flags: '--sort <field>', description: 'sort by this field; -field for descending' },
    { flags: '--filter <expr>', description: "rows to keep: 'state=D', 'cpu!=0,prio<120', 'comm~^kworker'" },
    { flags: '--percpu <variable>', description: 'one row per CPU of this per-CPU variable (e.g. runqueues) instead of tasks' },
    { flags: '--type <type>', description: "the per-CPU variable's type when BTF does not know it" },
    { flags: '--limit <n>', description: 'print at most n rows' },
  ],
  run({ vm, options }) {
    const percpu = options.percpu ?? null;
    const fields = (options.fields ?? (percpu ? DEFAULT_PERCPU_FIELDS : DEFAULT_TASK_FIELDS)).split(',').map((s) => s.trim()).filter(Boolean);
    let rows: Record<string, Value>[];
    let type = 'struct task_struct';
    let outFields = fields;
    if (percpu) {
      const r = perCpuRows(vm, percpu, fields, options.type);
      rows = r.rows;
      type = r.typeName;
      outFields = ['cpu', ...fields.filter((f) => f !== 'cpu')];
    } else {
      rows = taskRows(vm, fields);
    }
    if (options.filter) {
      const tests = parseFilter(options.filter);
      rows = rows.filter((r) => tests.every((t) => t(r)));
    }
    if (options.sort) sortRows(rows, options.sort);
    // outliers against every kept row; --limit only shortens what is shown
    let { outliers, notScored } = findOutliers(rows, outFields);
    if (options.limit) {
      const n = Number(options.limit);
      rows = rows.slice(0, n);
      outliers = outliers.filter((o) => o.row < n);
    }
    return { source: percpu ? 'percpu' : 'tasks', type, variable: percpu, fields: outFields, rows, outliers, notScored };
  },
  script({ file, options }) {
    const percpu = options.percpu;
    const fields = (options.fields ?? (percpu ? DEFAULT_PERCPU_FIELDS : DEFAULT_TASK_FIELDS)).split(',').map((s) => s.trim()).filter(Boolean);
    const read = `const cell = (o) => (o.kind === 'array' ? o.string() : o.kind === 'pointer' ? '0x' + o.pointer().toString(16) : o.kind === 'struct' ? o.member(vm.types.members(o.type)[0].name).value() : o.value());\n`;
    if (percpu) {
      return scriptPrelude(file, ['forEachPossibleCpu']) + read + `for (const cpu of forEachPossibleCpu(vm)) {
  const o = vm.perCpu(${JSON.stringify(percpu)}, cpu${options.type ? `, ${JSON.stringify(options.type)}` : ''});
  console.log([cpu, ${fields.filter((f) => f !== 'cpu').map((f) => `cell(o.member(${JSON.stringify(f)}))`).join(', ')}].join(' '));
}
`;
    }
    return scriptPrelude(file) + `import { forEachPossibleCpu } from 'vaat';\n` + read + `// thread group leaders on init_task.tasks, then each one's other threads (signal->thread_head)
const T = 'struct task_struct';
const tasksOff = BigInt(vm.types.offsetof(T, 'tasks'));
const nodeOff = BigInt(vm.types.offsetof(T, 'thread_node'));
const next = (p) => vm.objectAt(p, 'struct list_head').member('next').pointer();
const init = vm.object('init_task');
const out = [];
for (let p = next(init.address + tasksOff); p !== init.address + tasksOff; p = next(p)) {
  const leader = p - tasksOff;
  out.push(leader);
  const head = vm.objectAt(leader, T).member('signal.thread_head').address;
  for (let q = next(head); q !== head; q = next(q)) if (q - nodeOff !== leader) out.push(q - nodeOff);
}
// then each possible CPU's idle task (swapper/N, pid 0), which no list holds: runqueues:N .idle
for (const cpu of forEachPossibleCpu(vm)) {
  const idle = vm.perCpu('runqueues', cpu).member('idle').pointer();
  if (idle !== 0n) out.push(idle);
}
for (const a of out) {
  const t = vm.objectAt(a, T);
  console.log([${fields.map((f) => f === 'state' ? `t.member(vm.types.hasMember(T, '__state') ? '__state' : 'state').value()` : f === 'cpu' ? `t.member('thread_info.cpu').value()` : `cell(t.member(${JSON.stringify(f)}))`).join(', ')}].join(' '));
}
`;
  },
  render(r, out, options) {
    const c = out.c;
    // outliers by row, then field: most rows have none, and their cells need no lookup
    const hot = new Map<number, Map<string, Outlier>>();
    for (const o of r.outliers) {
      const m = hot.get(o.row) ?? new Map<string, Outlier>();
      hot.set(o.row, m.set(o.field, o));
    }
    void options;
    out.table(function* () {
      for (const [i, row] of r.rows.entries()) {
        const rowHot = hot.get(i);
        yield r.fields.map((f) => {
          const v = row[f];
          const o = rowHot?.get(f);
          const text = v === null ? '-' : String(v);
          return o ? (o.z > 0 ? c.red.bold(text) : c.yellow.bold(text)) : text;
        });
      }
    }, { header: r.fields.map((f) => f.toUpperCase()), alignRight: r.fields.map((f, i) => (r.rows.some((row) => typeof row[f] === 'number') ? i : -1)).filter((i) => i >= 0) });
    out.line(c.dim(`${r.rows.length} ${r.source === 'percpu' ? `CPUs of ${r.variable} (${r.type})` : 'tasks'}`));
    if (r.outliers.length) {
      out.line(c.dim(`outliers (|modified z| > ${Z_LIMIT}, median/MAD per column):`));
      for (const o of r.outliers) {
        const row = r.rows[o.row];
        const key = r.source === 'percpu' ? `cpu ${row.cpu}` : `pid ${row.pid ?? o.row}${row.comm !== undefined ? ` ${row.comm}` : ''}`;
        out.line(`  ${key}: ${o.field} = ${o.value} (z ${o.z > 0 ? '+' : ''}${o.z})`);
      }
    }
  },
});
