/**
 * The one error contract of vaat, shared by the library, the CLI, fleet workers and the shell
 * session. Every fault vaat can foresee is a VaatError subclass; each belongs to one of three
 * kinds that decide the exit status:
 *
 * - input (exit 1): the dump or another file the user gave is not what it should be — not a
 *   dump, truncated, corrupt, a page the dump left out, a vmlinux/BTF/System.map of another
 *   kernel, or a symbol/pid/CPU the command asked for that this dump does not have;
 * - usage (exit 2): the command line itself is wrong (a missing argument, a malformed number);
 * - bug (exit 3): anything else — an error vaat did not foresee is vaat's bug, reported as such,
 *   with the stack only under --debug.
 *
 * describeFailure() turns any thrown value into the one line a person sees and its exit status.
 */

import { escapeControls } from './escape.js';

export { escapeControls };

export type FaultKind = 'input' | 'usage' | 'bug';

export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;
export const EXIT_BUG = 3;
export const EXIT_INTERRUPTED = 130;

export class VaatError extends Error {
  /** the fault without the file name */
  readonly detail: string;
  /** the file the fault is in (the dump, or a vmlinux/BTF/System.map given with it) */
  file?: string;

  constructor(message: string, file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = new.target.name;
    this.detail = message;
    if (file) this.file = file;
  }

  get kind(): FaultKind { return 'input'; }

  /** name the file this fault is about when nothing named one yet (kernel-model code knows no file names) */
  inFile(file: string): this {
    if (!this.file && !this.detail.includes(file)) {
      this.file = file;
      this.message = `${file}: ${this.detail}`;
    }
    return this;
  }
}

/** The command line is wrong: a missing or malformed argument or option. Exit 2. */
export class UsageError extends VaatError {
  override get kind(): FaultKind { return 'usage'; }
}

/** A library function called with a missing or wrong-kind argument (the calling script's fault; exit 2). */
export class ArgumentError extends UsageError {}

/** The file is not a vmcore in any format we know. */
export class NotADumpError extends VaatError {}
/** A dump, but a variant, codec or architecture we cannot read (or a reader that cannot read it). */
export class UnsupportedFormatError extends VaatError {}
/** The file ends before data its headers promise (e.g. makedumpfile's vmcore-incomplete). */
export class TruncatedDumpError extends VaatError {}

/** Where in the dump a corrupt structure is: its kind (`task list`, `cfs_rq`, `VMCOREINFO`...) and address. */
export interface CorruptWhere { structure?: string; address?: bigint }

/** A header, descriptor, compressed block or kernel structure fails a sanity check. */
export class CorruptDumpError extends VaatError {
  readonly structure?: string;
  readonly address?: bigint;
  constructor(message: string, file?: string, where: CorruptWhere = {}) {
    super(message, file);
    if (where.structure !== undefined) this.structure = where.structure;
    if (where.address !== undefined) this.address = where.address;
  }
}

/** open/read of an input file failed at the OS level (missing file, permission, directory...). */
export class DumpIOError extends VaatError {
  constructor(message: string, file?: string, readonly errno?: string) { super(message, file); }
}
/** A page makedumpfile excluded (dump level) was read. */
export class ExcludedPageError extends VaatError {
  constructor(message: string, file: string | undefined, readonly address: bigint) { super(message, file); }
}
/** An address with no translation or not present in the dump. */
export class AddressNotMappedError extends VaatError {
  constructor(message: string, file: string | undefined, readonly address: bigint) { super(message, file); }
}
/** A vmlinux, BTF or System.map that is not the dump's kernel. */
export class MismatchedDebugInfoError extends VaatError {}
/** What the command asked for (a symbol, pid, CPU, type) is not in this dump. */
export class NotFoundError extends VaatError {}

/** The exit status for a thrown value: 1 input fault, 2 usage, 3 a bug in vaat. */
export function exitCodeFor(err: unknown): number {
  if (isCommanderUsage(err)) return (err as { exitCode: number }).exitCode === 0 ? 0 : EXIT_USAGE;
  if (!(err instanceof VaatError)) return EXIT_BUG;
  return err.kind === 'usage' ? EXIT_USAGE : err.kind === 'bug' ? EXIT_BUG : EXIT_INPUT;
}

// commander's own parse errors (unknown option, missing argument) are usage faults; matched by
// shape so this module does not depend on the CLI parser
export function isCommanderUsage(err: unknown): boolean {
  const e = err as { code?: unknown; exitCode?: unknown };
  return err instanceof Error && typeof e.code === 'string' && e.code.startsWith('commander.') && typeof e.exitCode === 'number';
}

export interface Failure {
  /** the one line to print (no trailing newline, no `vaat:` prefix) */
  line: string;
  exitCode: number;
  kind: FaultKind;
  /** the stack, for --debug (bugs and input faults alike) */
  stack?: string;
}

/**
 * What to tell a person about a failure: one line naming the file (the dump being analysed, when
 * the error itself names none) and the fault, and the exit status. Control characters from the
 * dump are escaped so a message never drives the terminal.
 */
export function describeFailure(err: unknown, ctx: { file?: string } = {}): Failure {
  const exitCode = exitCodeFor(err);
  const stack = err instanceof Error ? err.stack : undefined;
  if (err instanceof VaatError) {
    if (ctx.file && err.kind === 'input') err.inFile(ctx.file);
    return { line: oneLine(err.message), exitCode, kind: err.kind, ...(stack ? { stack } : {}) };
  }
  if (exitCode !== EXIT_BUG) {
    return { line: oneLine(err instanceof Error ? err.message.replace(/^error: /, '') : String(err)), exitCode, kind: 'usage' };
  }
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const where = ctx.file ? ` analysing ${ctx.file}` : '';
  return {
    line: oneLine(`internal error${where}: ${what} — this is a bug in vaat, please report it with this line and the stack that --debug prints`),
    exitCode, kind: 'bug', ...(stack ? { stack } : {}),
  };
}

/** the first line, control characters escaped */
function oneLine(s: string): string {
  return escapeControls(s.split('\n')[0]);
}
