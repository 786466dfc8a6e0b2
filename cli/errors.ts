/**
 * How a failed command ends, in one place for the CLI and the session: one line for stderr and
 * the exit status (1: the input's fault, 2: usage, 3: a bug of ours). The typed error contract
 * of the error-handling issue replaces the mapping here when it lands.
 */
import { CommanderError } from 'commander';
import { VaatError } from '../src/dump/errors.js';

/** the command line is wrong: unknown command, missing or ambiguous dump (exit 2) */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Failure {
  /** the line for stderr, without the `vaat: ` prefix; null when already printed (commander) */
  line: string | null;
  code: number;
}

export function failureOf(err: unknown): Failure {
  // commander printed its own message (or help, exit 0)
  if (err instanceof CommanderError) return { line: null, code: err.exitCode === 0 ? 0 : 2 };
  const msg = err instanceof Error ? err.message : String(err);
  const line = msg.split('\n')[0];
  if (err instanceof UsageError) return { line, code: 2 };
  return { line, code: err instanceof VaatError ? 1 : 3 };
}

/** print the failure's line (and the stack with VAAT_DEBUG) and return its exit status */
export function reportFailure(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  const f = failureOf(err);
  if (f.line !== null) write(`vaat: ${f.line}\n`);
  if (process.env.VAAT_DEBUG && err instanceof Error) write(String(err.stack) + '\n');
  return f.code;
}
