/**
 * Run the built CLI (bin/vaat.js → dist/) the way a person or script would.
 *
 * Every run is spawned, never spawnSync: a test that runs the CLI several times in a row must let
 * its vitest worker answer vitest in between. A worker whose event loop is blocked for a minute
 * misses its RPC reply ("Timeout calling onTaskUpdate", a fixed 60 s), failing the whole run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './fixtures.js';

const bin = join(projectRoot, 'bin', 'vaat.js');
if (!existsSync(join(projectRoot, 'dist', 'cli', 'main.js'))) {
  throw new Error('dist/ is not built: run scripts/setup.sh (or npx tsc) before the CLI tests');
}

export interface CliResult { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface RunOptions {
  /** the whole environment (default: this process's, with NO_COLOR=1) */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** written to the child's stdin, which is then closed (default: closed at once) */
  input?: string;
  /** ms until the child is sent SIGTERM */
  timeout?: number;
}

/** run CMD ARGV to its end, collecting its output as text; a command that cannot start gives status null */
export function runProcess(cmd: string, argv: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const c = spawn(cmd, argv, { env: opts.env ?? { ...process.env, NO_COLOR: '1' }, cwd: opts.cwd, timeout: opts.timeout, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let done = false;
    const finish = (r: CliResult) => { if (!done) { done = true; resolve(r); } };
    c.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    c.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    c.stdin.on('error', () => {});
    c.stdin.end(opts.input ?? '');
    c.on('error', (e) => finish({ status: null, signal: null, stdout, stderr: stderr + String(e) }));
    c.on('close', (status, signal) => finish({ status, signal, stdout, stderr }));
  });
}

/** `vaat ARGS`; with `prefix`, run through that command line (e.g. setpriv ...) */
export function vaat(args: string[], opts: RunOptions & { prefix?: string[] } = {}): Promise<CliResult> {
  const { prefix = [], ...runOpts } = opts;
  const cmd = prefix.length ? prefix[0] : process.execPath;
  const argv = prefix.length ? [...prefix.slice(1), process.execPath, bin, ...args] : [bin, ...args];
  return runProcess(cmd, argv, runOpts);
}

/** parse `vaat ... --json`, failing with the CLI's stderr in the message */
export async function vaatJson(args: string[]): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await vaat([...args, '--json']);
  if (r.status !== 0) throw new Error(`vaat ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** run a program with node, as a user runs it */
export function runNode(file: string): Promise<CliResult> {
  return runProcess(process.execPath, [file], { env: process.env });
}

/**
 * `vaat ARGS --script`, then run the program it prints and return its stdout. The program is
 * written inside the package (dist/) so its `import 'vaat'` resolves to this checkout through
 * the package's self-reference; it must print nothing on stderr.
 */
export async function runScript(args: string[]): Promise<string> {
  const s = await vaat([...args, '--script']);
  if (s.status !== 0) throw new Error(`vaat ${args.join(' ')} --script exited ${s.status}: ${s.stderr}`);
  if (!s.stdout.startsWith("import { openVmcore")) throw new Error(`not a vaat script: ${s.stdout.slice(0, 80)}`);
  const dir = mkdtempSync(join(projectRoot, 'dist', 'script-'));
  try {
    const f = join(dir, 'script.mjs');
    writeFileSync(f, s.stdout);
    const r = await runNode(f);
    if (r.stderr !== '') throw new Error(`script for vaat ${args.join(' ')} wrote to stderr: ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
