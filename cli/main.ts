/**
 * The `vaat` command line: `vaat <command> <vmcore> [args] [options]`, `vaat <vmcore>` for the
 * default summary, `vaat help`. Every fault ends in one line on stderr and a non-zero exit.
 */
import { existsSync } from 'node:fs';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { setProgressReporter } from '../src/progress.js';
import { loadCommands, type LoadedCommand } from './load-commands.js';
import { openOptionsFrom } from './command-argv.js';
import { chooseDump } from './dump-arg.js';
import { inFile, reportFailure, UsageError } from './errors.js';
import { commandResult, parseInvocation, refuseAmbiguousDump, scriptFor, writeCommandResult } from './run-command.js';
import { terminalTarget } from './pager.js';
import { isFleetInvocation, runFleetCli } from './fleet.js';
import { runShellCli } from './shell-cli.js';
import { computing, installInterruptHandler } from './interrupt.js';

const DEFAULT_COMMAND = 'summary';

/** the dump a single-dump run named, once known: an unforeseen error's line names it too */
let currentDump: string | undefined;

function helpText(cmds: LoadedCommand[]): string {
  const w = Math.max(...cmds.map((c) => c.command.name.length));
  const lines = [
    'usage: vaat shell [vmcore]      (a session: type commands without the dump, as at crash\'s prompt)',
    '       vaat <command> [args] [vmcore] [options]',
    '       vaat <vmcore>            (summary)',
    '',
    'with no vmcore named: $VAAT_VMCORE, else the newest dump under --crash-dir ($VAAT_CRASH_DIR, /var/crash)',
    '',
    'commands:',
    ...cmds.map((c) => `  ${c.command.name.padEnd(w)}  ${c.command.summary}${c.source === 'built-in' ? '' : `  [${c.source}]`}`),
    '',
    'every command takes --json (machine output) and --plain (no colour),',
    'and -d DIR to run over every vmcore under DIR (-j N workers, --timeout S per dump).',
    '',
    'fleet service:',
    '  vaat serve --crash-dir DIR...   watch, analyse and bucket new vmcores; HTTP on 127.0.0.1:8080',
    '  vaat worker --queue redis://... --db postgres://...   a worker for vaat serve --queue/--db',
  ];
  return lines.join('\n') + '\n';
}

/** `vaat <command> [args, the dump among them] [options]` */
async function runCommand(lc: LoadedCommand, argv: string[]): Promise<void> {
  const spec = lc.command;
  const { args: positionals, options } = parseInvocation(spec, argv);
  const chosen = chooseDump(positionals, { crashDir: options.crashDir as string | undefined, takesOperands: !!spec.args });
  if (chosen.note) process.stderr.write(`vaat: dump: ${chosen.note}\n`);
  const { file, args } = chosen;
  currentDump = file;
  if (options.script) { process.stdout.write(scriptFor(spec, file, args, options)); return; }
  // the error contract: a fault names the dump even when the code that found it knew no file name
  // a Ctrl-C while the dump opens or the command computes ends the run at once (cli/interrupt.ts);
  // while the text is written it is the pager's (less keeps the terminal until it quits)
  let vm: Vmcore | undefined;
  try {
    const result = await computing(async () => {
      let opened: Vmcore;
      try { opened = vm = openVmcore(file, openOptionsFrom(options)); } catch (e) { throw inFile(e, file); }
      refuseAmbiguousDump(spec, opened, chosen.typed);
      return commandResult(spec, opened, args, options);
    });
    await writeCommandResult(spec, result, options, { color: !!process.stdout.isTTY }, terminalTarget());
  } catch (e) {
    throw inFile(e, file);
  } finally {
    vm?.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  // the fleet service: its own programs, loaded only when asked for (they need the database and HTTP modules)
  if (argv[0] === 'serve' || argv[0] === 'worker') {
    const svc = await import('../src/service/cli.js');
    return argv[0] === 'serve' ? svc.runServe(argv.slice(1)) : svc.runWorker(argv.slice(1));
  }
  // Ctrl-C from here on ends as one during the run does (cli/interrupt.ts); the service above has its own
  installInterruptHandler();
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
  if (isFleetInvocation(argv, commands)) {
    if (argv.includes('--script')) return reportFailure(new UsageError('runs over a set of dumps (-d DIR, report, triage, similar) have no --script form: script one dump, or loop over them'));
    try { return await runFleetCli(argv, commands); } catch (err) { return reportFailure(err); }
  }
  // the session: `vaat shell [VMCORE]`, `vaat VMCORE --shell`
  if (first === 'shell') return runShellCli(rest, commands);
  if (argv.includes('--shell')) return runShellCli(argv.filter((a) => a !== '--shell'), commands);
  let lc = commands.find((c) => c.command.name === first);
  let args = rest;
  if (!lc) {
    // `vaat VMCORE`, `vaat --json`: the summary of that dump, or of the current one
    if (!first.startsWith('-') && !existsSync(first) && !first.includes('/')) {
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
    return reportFailure(err, undefined, { ...(currentDump ? { file: currentDump } : {}) });
  }
}
