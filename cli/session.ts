/**
 * The session: one dump opened once, then commands typed the way crash's prompt takes them —
 * without the dump (`cpuinfo -t`, `lockinfo cgroup_mutex`, `bt 1234`), `--json` and `--script`
 * as on the command line, `cmd | grep …` and `cmd > file` handed to the shell. A command that
 * fails prints its one line and the session goes on. The terminal side (prompt, history,
 * completion, pager) is in session-tty.ts; this module is what both it and `-c`/stdin use.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import shellQuote from 'shell-quote';
import type { Vmcore } from '../src/vmcore.js';
import type { LoadedCommand } from './load-commands.js';
import { openOptionsGiven } from './command-argv.js';
import { dumpFormatOf } from './dump-arg.js';
import { reportFailure, UsageError } from './errors.js';
import { commandOutput, parseInvocation, scriptFor } from './run-command.js';

/** where a command's text goes: the terminal (maybe through a pager) or a plain stream */
export interface SessionSink {
  /** colour for people when output is not piped */
  color: boolean;
  write(text: string): Promise<void>;
  err(text: string): void;
}

export const SESSION_BUILTINS = ['help', 'echo', 'quit', 'exit'] as const;

/**
 * Split `text` at `sep` characters that are outside quotes and not escaped (`;` between
 * commands, `|` before a shell pipeline). `limit` 1 splits at the first only.
 */
export function splitUnquoted(text: string, seps: string, limit = Infinity): { parts: string[]; at: string[] } {
  const parts: string[] = [];
  const at: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && quote !== "'") { i++; continue; }
    if (quote) { if (ch === quote) quote = null; continue; }
    if (ch === '"' || ch === "'") { quote = ch; continue; }
    // `init_task->comm` is a member path, not a redirection
    if (seps.includes(ch) && parts.length < limit && !(ch === '>' && text[i - 1] === '-')) {
      parts.push(text.slice(start, i));
      at.push(ch);
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return { parts, at };
}

/** unquoted `->` (a member path: `init_task->comm`) escaped so the shell parser keeps it a word */
function escapeArrows(text: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && quote !== "'") { out += ch + (text[i + 1] ?? ''); i++; continue; }
    if (quote) { if (ch === quote) quote = null; } else if (ch === '"' || ch === "'") quote = ch;
    out += !quote && ch === '-' && text[i + 1] === '>' ? '-\\' : ch;
  }
  return out;
}

/** a command's words, shell-quoted the usual way; `$VAR` stays as typed */
export function words(text: string): string[] {
  return shellQuote.parse(escapeArrows(text), (key) => `$${key}`).map((t) => {
    if (typeof t === 'string') return t;
    if ('pattern' in t) return t.pattern; // `*`, `?`: kernel names, never file globs here
    if ('comment' in t) return '';
    throw new UsageError(`'${'op' in t ? t.op : '?'}' is not understood here (only '|' and '>' to the shell, ';' between commands)`);
  }).filter((w) => w !== '');
}

/**
 * What the session runs, output dropped, while its prompt waits for the first commands: each
 * loads what a command's first run would otherwise pay for — the DWARF index and ORC tables (`bt`),
 * every task's stack (`stacks`, `lockinfo --blocked`), the scheduler's and cgroups' tables, the
 * log. PID 1 exists on every kernel; a step that fails is skipped (the real command will say why).
 */
export const WARM_UP = ['bt 1', 'stacks', 'lockinfo --blocked', 'runq -g', 'cpuinfo -t', 'cgroupinfo', 'signature', 'log --tail 1', 'sys'];

export class Session {
  readonly #byName: Map<string, LoadedCommand>;
  #dumpIno: string;
  #warming = false;

  constructor(readonly vm: Vmcore, readonly commands: LoadedCommand[]) {
    this.#byName = new Map(commands.map((c) => [c.command.name, c]));
    const st = statSync(vm.file);
    this.#dumpIno = `${st.dev}:${st.ino}`;
  }

  commandNames(): string[] { return [...this.#byName.keys(), ...SESSION_BUILTINS]; }
  command(name: string): LoadedCommand | undefined { return this.#byName.get(name); }

  helpText(): string {
    const w = Math.max(...this.commands.map((c) => c.command.name.length));
    return [
      `dump: ${this.vm.file}`,
      'commands (each takes --json, --plain, --script; `help COMMAND` or `COMMAND --help` for its options):',
      ...this.commands.map((c) => `  ${c.command.name.padEnd(w)}  ${c.command.summary}`),
      "  `cmd | shell pipeline` and `cmd > file` go to the shell; `cmd; cmd` runs both; `echo TEXT` prints TEXT; quit (or Ctrl-D) ends.",
    ].join('\n') + '\n';
  }

  /**
   * Run the WARM_UP steps one at a time, yielding to the event loop between them so typed lines
   * are read; a command typed meanwhile waits for at most the step in progress. Ends early when
   * `stopped()` says so (the session is closing). Resolves with the steps run.
   */
  async warmUp(stopped: () => boolean): Promise<number> {
    if (this.#warming) return 0;
    this.#warming = true;
    const quiet: SessionSink = { color: false, err: () => {}, write: async () => {} };
    let done = 0;
    try {
      for (const step of WARM_UP) {
        await new Promise((resolve) => setImmediate(resolve));
        if (stopped()) break;
        await this.execLine(step, quiet);
        done++;
      }
    } finally {
      this.#warming = false;
    }
    return done;
  }

  /** run every `;`-separated command of `line`; the highest exit status, or 'quit' */
  async execLine(line: string, sink: SessionSink): Promise<number | 'quit'> {
    let status = 0;
    for (const part of splitUnquoted(line, ';').parts) {
      const r = await this.execOne(part, sink);
      if (r === 'quit') return 'quit';
      status = Math.max(status, r);
    }
    return status;
  }

  /** one command, with its `| pipeline` or `> file`; failures print their one line */
  async execOne(text: string, sink: SessionSink): Promise<number | 'quit'> {
    const { parts: [cmdText, shellText], at } = splitUnquoted(text, '|>', 1);
    try {
      const argv = words(cmdText);
      if (argv.length === 0) {
        if (shellText !== undefined) throw new UsageError(`nothing before '${at[0]}'`);
        return 0;
      }
      const output = await this.#compute(argv, { color: sink.color && shellText === undefined });
      if (output === 'quit') return 'quit';
      if (shellText === undefined) await sink.write(output);
      // `> file` and `>> file` are the shell's too: `cmd > f` is `cat > f`
      else await toShell(at[0] === '>' ? `cat >${shellText}` : shellText, output);
      return 0;
    } catch (err) {
      return reportFailure(err, (s) => sink.err(s));
    }
  }

  async #compute([name, ...rest]: string[], style: { color: boolean }): Promise<string | 'quit'> {
    if (name === 'quit' || name === 'exit' || name === 'q') return 'quit';
    if (name === 'help' && rest.length === 0) return this.helpText();
    if (name === 'echo') return rest.join(' ') + '\n'; // as crash's: marks places in a command file's output
    const lc = this.#byName.get(name === 'help' ? rest[0] : name);
    if (!lc) throw new UsageError(`unknown command '${name === 'help' ? rest[0] : name}' (type help)`);
    const spec = lc.command;
    const { args: positionals, options } = parseInvocation(spec, name === 'help' ? ['--help'] : rest);
    const given = openOptionsGiven(options);
    if (given.length || options.crashDir !== undefined) {
      throw new UsageError(`${[...given, ...(options.crashDir !== undefined ? ['--crash-dir'] : [])].join(', ')}: say how to open the dump, so they go to \`vaat shell\`, not to one command`);
    }
    const args = positionals.filter((a) => !this.#isSessionDump(a));
    if (options.script) return scriptFor(spec, this.vm.file, args, options);
    return commandOutput(spec, this.vm, args, options, style);
  }

  /** the session's dump typed again out of habit is dropped; another dump is refused */
  #isSessionDump(arg: string): boolean {
    const st = statSync(arg, { throwIfNoEntry: false });
    if (!st?.isFile()) return false;
    if (`${st.dev}:${st.ino}` === this.#dumpIno) return true;
    if (dumpFormatOf(arg) !== null) throw new UsageError(`'${arg}' is another dump: this session reads ${this.vm.file} (start another \`vaat shell\` for it)`);
    return false;
  }
}

/** hand `text` to `/bin/sh -c command` on its stdin; resolves when the pipeline ends */
export function toShell(command: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', () => resolve());
    // `| head` closes its stdin early: not an error
    child.stdin.on('error', () => {});
    child.stdin.end(text);
  });
}
