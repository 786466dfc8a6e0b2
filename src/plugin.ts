/**
 * The command plugin API. Built-in commands in commands/ and users' own commands are the same
 * kind of object: a name, a summary, typed options, run() that computes plain JSON-able data from
 * an opened vmcore, and render() that formats that data for people. `--json` prints run()'s
 * result as it is, so every command has stable machine output for free.
 */
import type { Vmcore } from './vmcore.js';
import type { Output } from './output/sink.js';

/** One command-line option of a command, as commander takes it (`-t, --tlb`, its help, its default). */
export interface OptionSpec {
  /** commander-style flags, e.g. '-t, --tail <n>' or '--json' */
  flags: string;
  description: string;
  default?: string | boolean | string[];
}

/** What a command's run() gets: the open dump, its positional arguments and its parsed options. */
export interface CommandContext<O> {
  vm: Vmcore;
  /** parsed options (camelCased long names) */
  options: O;
  /** positional arguments after the command name, minus the vmcore path */
  args: string[];
}

/** A command: run() computes a typed result from a dump, render() prints it for people; `--json` is the result through the one serializer (toJson). */
export interface VaatCommand<O = Record<string, unknown>, R = unknown> {
  name: string;
  summary: string;
  /** positional arguments besides the vmcore, for help, e.g. '[pid|comm...]' */
  args?: string;
  options?: OptionSpec[];
  run(ctx: CommandContext<O>): R | Promise<R>;
  /**
   * `--jsonl`: the key of the result's long list (ps: 'tasks'), printed one element a line as
   * `--json` has it, for programs that read a row at a time. Commands without one refuse --jsonl.
   */
  jsonl?: string;
  render(result: R, out: Output, options: O): void;
  /**
   * `--script`: a short TypeScript program using the public API that computes the same answer
   * (drgn's `--drgn` idea: it teaches the API). Given the vmcore path, arguments and options.
   * Without it, or when it returns null for these arguments, `--script` prints commandScript():
   * the command object itself run from a program.
   */
  script?(input: { file: string; args: string[]; options: O }): string | null;
  /** for `--script`: why this command has no program form (fleet-wide commands), instead of commandScript() */
  noScript?: string;
  /**
   * `-d DIR` runs: this command's result as one row of the fleet overview table (column → cell,
   * in column order). Commands without it print one section per vmcore instead.
   */
  fleetRow?(result: R): Record<string, string | number | boolean | null>;
}

/** the opening lines every `--script` program shares (`imports`: more names it takes from 'vaat') */
export function scriptPrelude(file: string, imports: readonly string[] = []): string {
  return `import { ${['openVmcore', ...imports].join(', ')} } from 'vaat';\n\nconst vm = openVmcore(${JSON.stringify(file)});\n`;
}

/**
 * `--script` for any command: a program that opens the dump with the public API and runs the
 * command object on it, printing what `--json` prints. `options` are the command's own (camelCase,
 * defaults filled in); `open` how the dump was opened (--vmlinux ...).
 */
export function commandScript(input: { name: string; file: string; args: string[]; options: Record<string, unknown>; open: Record<string, unknown> }): string {
  const open = Object.keys(input.open).length ? `, ${JSON.stringify(input.open)}` : '';
  return `import { openVmcore, builtinCommand, toJson } from 'vaat';

// A command is an object (defineCommand): run() takes an opened dump, the arguments and the
// options, and returns the typed result that --json prints.
const vm = openVmcore(${JSON.stringify(input.file)}${open});
const result = await builtinCommand(${JSON.stringify(input.name)}).run({
  vm,
  args: ${JSON.stringify(input.args)},
  options: ${JSON.stringify(input.options)},
});
console.log(toJson(result, ${JSON.stringify(input.name)}));
vm.close();
`;
}

/** Identity helper that gives a command object its types. */
export function defineCommand<O = Record<string, unknown>, R = unknown>(cmd: VaatCommand<O, R>): VaatCommand<O, R> {
  return cmd;
}
