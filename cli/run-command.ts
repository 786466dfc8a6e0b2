/**
 * One command run against an opened dump, the same way from the command line and from the
 * session (`vaat shell`): its argv parsed by commander, run() computed, then `--json`, `--jsonl`
 * or the rendered text written piece by piece to a target the caller chose (stdout or a pager on
 * the command line; one string for the session, which pipes or pages it).
 */
import { Option, type Command } from 'commander';
import type { Vmcore } from '../src/vmcore.js';
import { Output } from '../src/output/sink.js';
import { commandSchema, schemaShape, type JsonShape } from '../src/output/json.js';
import { commandScript, type VaatCommand } from '../src/plugin.js';
import { openOptionsFrom, parseCommandArgv, type ParsedCommandArgv } from './command-argv.js';
import { UsageError } from './errors.js';
import type { TextTarget } from './pager.js';
import { writeJson, writeJsonLines } from '../src/output/json-stream.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySpec = VaatCommand<any, any>;

/** options of the single-dump command line that are not the command's own */
function cliOnlyOptions(c: Command): void {
  c.option('--crash-dir <dir>', 'where to look for the newest dump when none is named (default $VAAT_CRASH_DIR or /var/crash)');
}

/** parse a command's argv (positionals may include the dump; options anywhere) */
export function parseInvocation(spec: AnySpec, argv: readonly string[]): ParsedCommandArgv {
  return parseCommandArgv(spec, argv, cliOnlyOptions);
}

/** how the command's published schema writes its values (addresses as 0x…) */
function shapeOf(spec: AnySpec): JsonShape { return schemaShape(commandSchema(spec.name) ?? undefined); }

/** the list `--jsonl` prints for `spec`; a usage error for a command that has none */
export function jsonlKey(spec: AnySpec): string {
  if (!spec.jsonl) throw new UsageError(`${spec.name} has no --jsonl (it has no long list): use --json`);
  return spec.jsonl;
}

/** run `spec` on `vm` and return what it prints as one string (the session: its caller pipes or pages it) */
export async function commandOutput(spec: AnySpec, vm: Vmcore, args: string[], options: Record<string, unknown>, style: { color: boolean }): Promise<string> {
  const result = await commandResult(spec, vm, args, options);
  const parts: string[] = [];
  await writeCommandResult(spec, result, options, style, { write: (s) => { parts.push(s); }, end: async () => {} });
  return parts.join('');
}

/** run `spec` on `vm`: its typed result, nothing printed yet (a bad `--jsonl` is refused before the work) */
export async function commandResult(spec: AnySpec, vm: Vmcore, args: string[], options: Record<string, unknown>): Promise<unknown> {
  if (options.jsonl) jsonlKey(spec);
  return spec.run({ vm, options, args });
}

/**
 * send what `spec` prints for `result` to `target` as it is rendered: text row by row, never the
 * whole output as one string
 */
export async function writeCommandResult(spec: AnySpec, result: unknown, options: Record<string, unknown>,
  style: { color: boolean }, target: TextTarget): Promise<void> {
  const write = (s: string): void => target.write(s);
  if (options.jsonl) {
    writeJsonLines(result, jsonlKey(spec), write, shapeOf(spec));
  } else if (options.json) {
    writeJson(result, write, shapeOf(spec));
  } else {
    const out = new Output({ plain: !!options.plain, stream: { isTTY: style.color }, write });
    spec.render(result, out, options);
    out.flush();
  }
  await target.end();
}

/** what makes `token` a valid operand of a command, or null: a number, an address, a symbol or type of the dump */
export function operandMeaning(vm: Vmcore, token: string): string | null {
  if (token.includes('/')) return null; // a path written as one is never an operand
  if (/^\d+$/.test(token)) return 'a number';
  if (/^0x[0-9a-f]+$/i.test(token)) return 'an address';
  // a symbol expression as p and lockinfo take them: `init_task.comm`, `runqueues:2`, `cpu_info[1]`
  if (!/^[A-Za-z_]\w*(?:(?:\.|->)[A-Za-z_]\w*|\[\d+\]|:\w+)*$/.test(token)) return null;
  const base = /^[A-Za-z_]\w*/.exec(token)![0];
  try {
    if (vm.symbols.lookup(base)) return 'a symbol of the dump';
    if (vm.types.findType(token) !== null) return 'a type of the dump';
  } catch { /* no symbols or types to tell by: the file wins */ }
  return null;
}

/**
 * A dump typed among a command's operands whose name is also a valid operand is ambiguous
 * (`vaat lockinfo cgroup_mutex` with a dump file named cgroup_mutex in the directory): say so.
 */
export function refuseAmbiguousDump(spec: AnySpec, vm: Vmcore, typed: string | null): void {
  if (typed === null || !spec.args) return;
  const meaning = operandMeaning(vm, typed);
  if (meaning) {
    throw new UsageError(`'${typed}' is both a dump file here and ${meaning}, a valid operand of ${spec.name}: write it as ./${typed} for the file, or name the dump another way`);
  }
}

/** `--script`: the command's own program, else the command object run from a program */
export function scriptFor(spec: AnySpec, file: string, args: string[], options: Record<string, unknown>): string {
  if ('fleetRun' in spec) throw new UsageError(`'${spec.name}' works on a set of dumps (-d DIR) in worker processes: it has no --script form`);
  const own = Object.fromEntries((spec.options ?? []).map((o) => new Option(o.flags).attributeName())
    .filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
  // how the dump was opened, without the defaults
  const open = Object.fromEntries(Object.entries(openOptionsFrom(options)).filter(([k, v]) => !(k === 'zeroExcluded' && v === false) && !(k === 'backend' && v === 'auto')));
  return spec.script?.({ file, args, options }) ?? commandScript({ name: spec.name, file, args, options: own, open });
}
