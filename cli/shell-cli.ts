/**
 * `vaat shell [VMCORE] [-c 'cmd; cmd'] [open options]` and `vaat VMCORE --shell`: open the dump
 * once and take commands — at the `vaat> ` prompt on a terminal, else from `-c` or stdin.
 */
import { Command } from 'commander';
import { openVmcore } from '../src/vmcore.js';
import { addOpenOptions, openOptionsFrom } from './command-argv.js';
import { chooseDump } from './dump-arg.js';
import { reportFailure, UsageError } from './errors.js';
import type { LoadedCommand } from './load-commands.js';
import { Session } from './session.js';
import { runBatch, runInteractive } from './session-tty.js';

export async function runShellCli(argv: string[], commands: LoadedCommand[]): Promise<number> {
  let session: Session;
  let script: string | undefined;
  try {
    const prog = addOpenOptions(new Command('shell')
      .description('open a dump once and type commands without it (crash-style session)')
      .argument('[vmcore]', 'the dump (default: $VAAT_VMCORE, else the newest under the crash directory)')
      .option('-c, --command <commands>', "run these ';'-separated commands and exit")
      .option('--crash-dir <dir>', 'where to look for the newest dump (default $VAAT_CRASH_DIR or /var/crash)')
      .option('--shell', 'the session (this command)'))
      .exitOverride()
      .configureOutput({ writeErr: (s) => process.stderr.write(s) });
    prog.parse(argv, { from: 'user' });
    const options = prog.opts();
    const chosen = chooseDump(prog.args, { crashDir: options.crashDir });
    if (chosen.args.length) throw new UsageError(`unexpected argument '${chosen.args[0]}': a session takes one dump (commands go after -c, or at its prompt)`);
    if (chosen.note) process.stderr.write(`vaat: dump: ${chosen.note}\n`);
    script = options.command;
    session = new Session(openVmcore(chosen.file, openOptionsFrom(options)), commands);
  } catch (err) {
    return reportFailure(err);
  }
  try {
    if (script !== undefined) return await runBatch(session, script);
    if (process.stdin.isTTY && process.stdout.isTTY) return await runInteractive(session);
    return await runBatch(session, process.stdin);
  } finally {
    session.vm.close();
  }
}
