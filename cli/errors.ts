/**
 * How a failed command ends, in one place for the CLI and the session: the error contract of
 * src/errors/ — one line naming the file and the fault, exit 1 for the input's fault, 2 for usage,
 * 3 for a bug in vaat (asking for a report; the stack with --debug or VAAT_DEBUG).
 */
import { describeFailure, isCommanderUsage, VaatError } from '../src/errors/index.js';

export { UsageError } from '../src/errors/index.js';

export interface Failure {
  /** the line for stderr, without the `vaat: ` prefix; null when already printed (commander) */
  line: string | null;
  code: number;
}

export function failureOf(err: unknown, ctx: { file?: string } = {}): Failure {
  const f = describeFailure(err, ctx);
  // commander printed its own message (or help, exit 0)
  return { line: isCommanderUsage(err) ? null : f.line, code: f.exitCode };
}

/** name the dump in a fault that does not name a file yet */
export function inFile(err: unknown, file: string): unknown {
  if (err instanceof VaatError && err.kind === 'input') err.inFile(file);
  return err;
}

/** print the failure's line (and the stack with --debug / VAAT_DEBUG) and return its exit status */
export function reportFailure(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s), ctx: { file?: string; debug?: boolean } = {}): number {
  const f = failureOf(err, ctx);
  if (f.line !== null) write(`vaat: ${f.line}\n`);
  const debug = ctx.debug || !!process.env.VAAT_DEBUG || process.argv.includes('--debug');
  if (debug && err instanceof Error && f.code !== 2) write(String(err.stack) + '\n');
  return f.code;
}
