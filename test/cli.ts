/** Run the built CLI (bin/vaat.js → dist/) the way a person or script would. */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './fixtures.js';

const bin = join(projectRoot, 'bin', 'vaat.js');
if (!existsSync(join(projectRoot, 'dist', 'cli', 'main.js'))) {
  throw new Error('dist/ is not built: run scripts/setup.sh (or npx tsc) before the CLI tests');
}

export interface CliResult { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export function vaat(args: string[], opts: SpawnSyncOptions & { prefix?: string[] } = {}): CliResult {
  const { prefix = [], ...spawnOpts } = opts;
  const cmd = prefix.length ? prefix[0] : process.execPath;
  const argv = prefix.length ? [...prefix.slice(1), process.execPath, bin, ...args] : [bin, ...args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, ...spawnOpts });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** parse `vaat ... --json`, failing with the CLI's stderr in the message */
export function vaatJson(args: string[]): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = vaat([...args, '--json']);
  if (r.status !== 0) throw new Error(`vaat ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * `vaat ARGS --script`, then run the program it prints and return its stdout. The program is
 * written inside the package (dist/) so its `import 'vaat'` resolves to this checkout through
 * the package's self-reference; it must print nothing on stderr.
 */
export function runScript(args: string[]): string {
  const s = vaat([...args, '--script']);
  if (s.status !== 0) throw new Error(`vaat ${args.join(' ')} --script exited ${s.status}: ${s.stderr}`);
  if (!s.stdout.startsWith("import { openVmcore")) throw new Error(`not a vaat script: ${s.stdout.slice(0, 80)}`);
  const dir = mkdtempSync(join(projectRoot, 'dist', 'script-'));
  try {
    const f = join(dir, 'script.mjs');
    writeFileSync(f, s.stdout);
    const r = spawnSync(process.execPath, [f], { encoding: 'utf8' });
    if (r.stderr !== '') throw new Error(`script for vaat ${args.join(' ')} wrote to stderr: ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * vaat() without blocking the test worker: a test that runs many dumps one after another must
 * let the worker answer vitest between them (a worker blocked for a minute is reported as an error).
 */
export function vaatAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bin, ...args], { env: opts.env ?? { ...process.env, NO_COLOR: '1' }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    c.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    c.stdin.on('error', () => {});
    c.stdin.end(opts.input ?? '');
    c.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}
