/**
 * The `vaat` command line: `vaat <command> <vmcore> [args] [options]`, `vaat <vmcore>` for the
 * default summary, `vaat help`. Every fault ends in one line on stderr and a non-zero exit.
 */
import { Command, CommanderError } from 'commander';
import { existsSync } from 'node:fs';
import { openVmcore } from '../src/vmcore.js';
import { Output, toJson } from '../src/output/sink.js';
import { VaatError } from '../src/dump/errors.js';
import { setProgressReporter } from '../src/progress.js';
import { loadCommands, type LoadedCommand } from './load-commands.js';
import { addCommonOptions, openOptionsFrom } from './command-argv.js';
import { isFleetInvocation, runFleetCli } from './fleet.js';

const DEFAULT_COMMAND = 'summary';

function helpText(cmds: LoadedCommand[]): string {
  const w = Math.max(...cmds.map((c) => c.command.name.length));
  const lines = [
    'usage: vaat <command> <vmcore> [args] [options]',
    '       vaat <vmcore>            (summary)',
    '',
    'commands:',
    ...cmds.map((c) => `  ${c.command.name.padEnd(w)}  ${c.command.summary}${c.source === 'built-in' ? '' : `  [${c.source}]`}`),
    '',
    'every command takes --json (machine output) and --plain (no colour),',
    'and -d DIR to run over every vmcore under DIR (-j N workers).',
  ];
  return lines.join('\n') + '\n';
}

async function runCommand(lc: LoadedCommand, argv: string[]): Promise<void> {
  const spec = lc.command;
  const prog = addCommonOptions(new Command(spec.name)
    .description(spec.summary)
    .argument('<vmcore>', 'the dump file')
    .argument('[args...]', spec.args ?? ''))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const o of spec.options ?? []) prog.option(o.flags, o.description, o.default as string | boolean | string[] | undefined);
  prog.parse(argv, { from: 'user' });
  const [file, rest] = prog.processedArgs as [string, string[]];
  const options = prog.opts();
  if (options.script) {
    if (!spec.script) throw new VaatError(`'${spec.name}' has no --script form yet`);
    process.stdout.write(spec.script({ file, args: rest ?? [], options }));
    return;
  }
  const vm = openVmcore(file, openOptionsFrom(options));
  try {
    const result = await spec.run({ vm, options, args: rest ?? [] });
    if (options.json) {
      process.stdout.write(toJson(result) + '\n');
    } else {
      const out = new Output({ plain: !!options.plain });
      spec.render(result, out, options);
      process.stdout.write(out.text());
    }
  } finally {
    vm.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  // slow one-time work (DWARF indexing) is announced to people, never to programs reading stdout
  if (process.stderr.isTTY) setProgressReporter((m) => process.stderr.write(`vaat: ${m}\n`));
  const { commands, warnings } = await loadCommands();
  for (const w of warnings) process.stderr.write(`vaat: warning: ${w}\n`);
  const [first, ...rest] = argv;
  if (!first || first === 'help' || first === '--help' || first === '-h') {
    process.stdout.write(helpText(commands));
    return 0;
  }
  if (first === '--version' || first === '-V') { process.stdout.write('vaat 0.1.0\n'); return 0; }
  // -d DIR: the command over every vmcore under DIR, in worker processes (cli/fleet.ts)
  if (isFleetInvocation(argv, commands)) return runFleetCli(argv, commands);
  let lc = commands.find((c) => c.command.name === first);
  let args = rest;
  if (!lc) {
    if (!existsSync(first) && !first.includes('/')) {
      process.stderr.write(`vaat: unknown command '${first}' (see 'vaat help')\n`);
      return 2;
    }
    lc = commands.find((c) => c.command.name === DEFAULT_COMMAND)!;
    args = argv;
  }
  try {
    await runCommand(lc, args);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`vaat: ${msg.split('\n')[0]}\n`);
    if (process.env.VAAT_DEBUG && err instanceof Error) process.stderr.write(String(err.stack) + '\n');
    return err instanceof VaatError ? 1 : 3;
  }
}
