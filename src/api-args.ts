/**
 * Argument checks at the public API's edge (src/index.ts): a script that calls a helper with a
 * missing or wrong-kind argument gets an ArgumentError naming the function, the parameter and
 * what it wanted — not a TypeError from deep inside the kernel model. Checks look at kinds only
 * (a bigint address, an integer CPU, a KObject); whether the dump has that CPU or address is the
 * helper's own business and its own typed error.
 */
import { ArgumentError } from './errors/index.js';
import { KObject } from './object/kobject.js';
import { VmcoreInfo } from './dump/vmcoreinfo.js';

/** one parameter: its name, and what a value must be (null when it is fine) */
export interface Param { name: string; want: string; ok(v: unknown): boolean; optional?: boolean }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCpu = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/** what a parameter must be, by kind */
export const arg = {
  // a Vmcore, or another kernel context: told by its members, never by reading them (a getter may load types)
  vm: (name = 'vm'): Param => ({ name, want: 'a Vmcore from openVmcore()', ok: (v) => isObject(v) && 'mem' in v && typeof v.address === 'function' && typeof v.objectAt === 'function' }),
  mem: (name: string): Param => ({ name, want: 'a memory reader (a Vmcore\'s dump)', ok: (v) => isObject(v) && typeof v.readVirt === 'function' }),
  vmcoreinfo: (name: string): Param => ({ name, want: 'a VmcoreInfo (vm.vmcoreinfo)', ok: (v) => v instanceof VmcoreInfo }),
  address: (name: string): Param => ({ name, want: 'an address as a bigint (e.g. task.address)', ok: (v) => typeof v === 'bigint' && v >= 0n && v < 1n << 64n }),
  cpu: (name = 'cpu'): Param => ({ name, want: 'a CPU number (an integer >= 0)', ok: isCpu }),
  int: (name: string): Param => ({ name, want: 'an integer >= 0', ok: isCpu }),
  string: (name: string): Param => ({ name, want: 'a string', ok: (v) => typeof v === 'string' }),
  boolean: (name: string): Param => ({ name, want: 'true or false', ok: (v) => typeof v === 'boolean' }),
  oneOf: (name: string, values: readonly string[]): Param => ({ name, want: `one of ${values.map((x) => `'${x}'`).join(', ')}`, ok: (v) => typeof v === 'string' && values.includes(v) }),
  object: (name: string, want = 'an options object'): Param => ({ name, want, ok: isObject }),
  array: (name: string, want = 'an array'): Param => ({ name, want, ok: Array.isArray }),
  cpus: (name: string): Param => ({ name, want: 'an array of CPU numbers', ok: (v) => Array.isArray(v) && v.every(isCpu) }),
  kobject: (name: string): Param => ({ name, want: 'a KObject (vm.object(...), vm.objectAt(...))', ok: (v) => v instanceof KObject }),
  type: (name = 'type'): Param => ({ name, want: "a type name (e.g. 'struct task_struct') or type id", ok: (v) => (typeof v === 'string' && v.length > 0) || (Number.isSafeInteger(v) && (v as number) >= 0) }),
  either: (name: string, want: string, ...ps: Param[]): Param => ({ name, want, ok: (v) => ps.some((p) => p.ok(v)) }),
};

/** the same parameter, which may be left out (undefined) */
export const optional = (p: Param): Param => ({ ...p, optional: true });

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `a ${(v as object).constructor?.name ?? 'object'}`;
  return `${typeof v} ${String(v)}`;
}

/** throw an ArgumentError unless `args` fit `params` */
export function checkArgs(fn: string, params: readonly Param[], args: readonly unknown[], hint?: string): void {
  params.forEach((p, i) => {
    const v = args[i];
    if (v === undefined && p.optional) return;
    if (!p.ok(v)) {
      const what = v === undefined ? `missing argument ${i + 1} (${p.name})` : `argument ${i + 1} (${p.name}) is ${shown(v)}`;
      throw new ArgumentError(`${fn}(): ${what}: expected ${p.want}${hint ? ` — ${hint}` : ''}`);
    }
  });
}

/** `fn`, checking its arguments against `params` before it runs (generators too: the check is at the call) */
export function checked<F extends (...args: never[]) => unknown>(name: string, fn: F, params: readonly Param[], hint?: string): F {
  const wrapped = function (this: unknown, ...args: unknown[]) {
    checkArgs(name, params, args, hint);
    return (fn as unknown as (...a: unknown[]) => unknown).apply(this, args);
  };
  Object.defineProperty(wrapped, 'name', { value: name });
  return wrapped as unknown as F;
}
