/**
 * Every command's machine output, produced in-process the way `vaat CMD VMCORE --json` does
 * (options parsed by the CLI's parser, run(), then the one serializer with the command's
 * published schema): what test/schema.test.ts validates on every fixture; and the validator of
 * each command's published schema.
 */
import type { Vmcore } from '../src/vmcore.js';
import { builtinCommands } from '../commands/index.js';
import { parseCommandArgv } from '../cli/command-argv.js';
import Ajv2020 from 'ajv/dist/2020.js';
import { commandSchema, toJson } from '../src/output/json.js';
import { truth } from './fixtures.js';

export interface JsonCase {
  command: string;
  /** the arguments after the vmcore; a function gives them per scenario (null: not on this one) */
  argv: string[] | ((scenario: string) => string[] | null);
}

/** each command with the options that change its output's shape */
export const JSON_CASES: JsonCase[] = [
  { command: 'summary', argv: [] },
  { command: 'info', argv: [] },
  { command: 'sys', argv: [] },
  { command: 'ps', argv: [] },
  { command: 'ps', argv: ['-k', '--state', 'RD'] },
  { command: 'log', argv: ['--tail', '30'] },
  { command: 'mod', argv: [] },
  { command: 'bt', argv: [] },
  { command: 'bt', argv: ['-a'] },
  { command: 'stacks', argv: [] },
  { command: 'runq', argv: [] },
  { command: 'runq', argv: ['-g'] },
  { command: 'runq', argv: ['-t', '-T', '-m'] },
  { command: 'cgroupinfo', argv: [] },
  { command: 'cgroupinfo', argv: ['--tasks'] },
  { command: 'cgroupinfo', argv: ['--flat'] },
  { command: 'cpuinfo', argv: [] },
  { command: 'cpuinfo', argv: ['-i'] },
  { command: 'cpuinfo', argv: ['-t'] },
  { command: 'rd', argv: ['init_uts_ns'] },
  { command: 'struct', argv: ['mutex'] },
  { command: 'p', argv: ['jiffies_64'] },
  { command: 'sym', argv: ['schedule'] },
  { command: 'lockinfo', argv: ['cgroup_mutex'] },
  { command: 'lockinfo', argv: ['uts_sem'] },
  { command: 'lockinfo', argv: ['--blocked'] },
  { command: 'lockinfo', argv: ['1'] },
  {
    command: 'lockinfo',
    // a task blocked on a lock, as extra.json names it
    argv: (scenario) => {
      const w = (truth(scenario, 'extra.json').waits_for.waits_for as { pid: number; lock_addr: string | null }[]).find((x) => x.lock_addr);
      return w ? [String(w.pid)] : null;
    },
  },
  { command: 'tasktable', argv: [] },
  { command: 'signature', argv: [] },
  { command: 'triage', argv: [] },
];

/** a case's arguments on a scenario, null when it does not apply there */
export function caseArgv(c: JsonCase, scenario: string): string[] | null {
  return typeof c.argv === 'function' ? c.argv(scenario) : c.argv;
}

/** `vaat <command> <vmcore> <argv> --json`'s text, in-process on an opened dump */
export async function commandJson(vm: Vmcore, command: string, argv: string[]): Promise<string> {
  const spec = builtinCommands.find((c) => c.name === command);
  if (!spec) throw new Error(`no command ${command}`);
  const { args, options } = parseCommandArgv(spec, argv);
  const result: unknown = await spec.run({ vm, options, args });
  return toJson(result, command);
}

/** ajv for the published schemas (JSON Schema 2020-12, strict), with their `address` format */
export const schemaAjv = new Ajv2020({ allErrors: true, strict: true });
schemaAjv.addFormat('address', /^0x[0-9a-f]+$/);
const validators = new Map<string, ReturnType<typeof schemaAjv.compile>>();

/** the compiled validator of schema/v1/<command>.json, compiled once */
export function schemaValidator(command: string): ReturnType<typeof schemaAjv.compile> {
  let v = validators.get(command);
  if (!v) {
    const schema = commandSchema(command);
    if (!schema) throw new Error(`no schema/v1/${command}.json`);
    v = schemaAjv.compile(schema);
    validators.set(command, v);
  }
  return v;
}
