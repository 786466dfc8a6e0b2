/**
 * Ctrl-C at any moment of a run (issue #16, defect 6: a Ctrl-C in the first ~2.5 s killed the
 * process before its handler was installed): while the CLI loads, while the dump is being opened,
 * during a long command, and during `report`. Always status 130 and one line on stderr, never a
 * kill by the signal nor a stack trace; `report` leaves no half-written file behind.
 *
 * The moments are found by watching the process, not by sleeping a guessed time: a preload
 * module (given with --import) marks when the CLI installs its first Ctrl-C handler (its first
 * statement), and /proc/PID/fd shows when the dump file has been opened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './fixtures.js';
import { fixturePath } from './hostile/inputs.js';

const bin = join(projectRoot, 'bin', 'vaat.js');
const DUMP = fixturePath('sysrq-basic/vmcore.kdump-lzo');
let tmp: string;
let marker: string;
let preload: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'vaat-interrupt-'));
  marker = join(tmp, 'started');
  preload = join(tmp, 'mark.mjs');
  // runs just before bin/vaat.js and marks the moment the CLI installs its first SIGINT listener
  // (bin/vaat.js's first statement): no JavaScript can handle a Ctrl-C before that, Node's own
  // start-up has SIGINT's default action
  writeFileSync(preload, [
    "import { writeFileSync } from 'node:fs';",
    'const on = process.on;',
    "process.on = process.addListener = function (ev, fn) { const r = on.call(this, ev, fn); if (ev === 'SIGINT') writeFileSync(process.env.VAAT_TEST_MARK, String(process.pid)); return r; };",
    '',
  ].join('\n'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** does process `pid` have `file` open? (/proc names the file by its real path: the fixtures may sit behind a symlink) */
function hasOpen(pid: number, file: string): boolean {
  const real = realpathSync(file);
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`) === real; } catch { return false; } });
  } catch { return false; }
}

/** run the CLI, send SIGINT once `when` says so (polled every 2 ms), wait for the end */
function interrupted(args: string[], when: (pid: number, since: number) => boolean, env: NodeJS.ProcessEnv = {}): Promise<Run & { sentAt: string }> {
  rmSync(marker, { force: true });
  const child = spawn(process.execPath, ['--import', preload, bin, ...args], {
    env: { ...process.env, NO_COLOR: '1', VAAT_TEST_MARK: marker, ...env },
  });
  let stdout = '', stderr = '', sentAt = 'never';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let started = 0;
  const poll = setInterval(() => {
    if (!started && existsSync(marker)) started = Date.now();
    if (started && when(child.pid!, Date.now() - started)) {
      clearInterval(poll);
      sentAt = `${Date.now() - started} ms after the CLI started`;
      child.kill('SIGINT');
    }
  }, 2);
  return new Promise((resolve) => {
    child.on('close', (status, signal) => { clearInterval(poll); resolve({ status, signal, stdout, stderr, sentAt }); });
  });
}

function expectInterrupted(r: Run & { sentAt: string }): void {
  expect(r.sentAt, r.stderr).not.toBe('never');
  expect(r.signal, `${r.sentAt}: ${r.stderr}`).toBeNull();
  expect(r.status, `${r.sentAt}: ${r.stderr}`).toBe(130);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^vaat: interrupted/);
  expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
}

describe('Ctrl-C', () => {
  it('as soon as the CLI starts (its commands still loading): 130, one line', async () => {
    const r = await interrupted(['sys', DUMP], () => true);
    expectInterrupted(r);
    expect(r.stdout).toBe('');
  });

  it('while the dump is being opened: 130, one line', async () => {
    const r = await interrupted(['sys', DUMP], (pid) => hasOpen(pid, DUMP));
    expectInterrupted(r);
    expect(r.stdout).toBe('');
  });

  it('during a long command (stacks with a cold kallsyms decode): 130, one line', async () => {
    const r = await interrupted(['stacks', DUMP], (pid, since) => hasOpen(pid, DUMP) && since > 300, { VAAT_CACHE: 'off' });
    expectInterrupted(r);
    // ended there and then, not after computing and printing the answer
    expect(r.stdout).toBe('');
  });

  it('during report: 130, and no half-written file (every file complete, no temporaries, no summary for a dump left half done)', async () => {
    const out = join(tmp, 'report');
    // one dump, one worker: interrupted while its analyses are being written
    const r = await interrupted(['report', DUMP, '-o', out, '-j', '1'], () => existsSync(out) && readdirSync(out).some((d) => {
      const dir = join(out, d);
      return statSync(dir).isDirectory() && readdirSync(dir).some((f) => f.endsWith('.json'));
    }), { VAAT_CACHE: 'off' });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const files: string[] = [];
    const walk = (d: string): void => { for (const e of readdirSync(d)) { const p = join(d, e); if (statSync(p).isDirectory()) walk(p); else files.push(p); } };
    walk(out);
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const f of files.filter((x) => x.endsWith('.json'))) expect(() => JSON.parse(readFileSync(f, 'utf8')), f).not.toThrow();
    // a dump directory holds a summary.json only when every analysis it lists was written
    for (const d of readdirSync(out).map((x) => join(out, x)).filter((x) => statSync(x).isDirectory())) {
      const summary = join(d, 'summary.json');
      if (!existsSync(summary)) continue;
      const s = JSON.parse(readFileSync(summary, 'utf8')) as { analyses: { file: string; ok: boolean }[] };
      for (const a of s.analyses.filter((x) => x.ok)) expect(existsSync(join(d, `${a.file}.json`)), `${d}: ${a.file}`).toBe(true);
    }
  });
});
