/**
 * `vaat shell` in a real terminal: tmux runs it in a pane, the test types keys and reads the
 * screen. Checks the prompt, tab completion (command names, options, symbols, struct members),
 * the pager for output longer than the screen, a failing command that leaves the prompt, and
 * history kept across sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './fixtures.js';
import { vaat } from './cli.js';

const sample = join(projectRoot, 'sample', 'vmcore-cgroup-mutex-hung.kdump-zstd');
const socket = `vaat-test-${process.pid}`;
let tmp: string;

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`tmux: ${r.error.message} (scripts/setup.sh --with-test-tools installs it)`);
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const screen = (): string => tmux('capture-pane', '-p', '-t', 'vaat');
const keys = (...k: string[]): void => { tmux('send-keys', '-t', 'vaat', '--', ...k); };

/** wait until the screen matches (the dump opens and commands run at the machine's pace) */
async function waitFor(re: RegExp, ms = 60_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const s = screen();
    if (re.test(s)) return s;
    if (Date.now() > end || /^SESSION-ENDED/m.test(s)) throw new Error(`screen never matched ${re}:\n${s}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** the last non-empty line on the screen */
const lastLine = (s: string): string => s.trimEnd().split('\n').pop() ?? '';

function startSession(): void {
  const cmd = `env -u PAGER -u LESS XDG_STATE_HOME=${tmp}/state NO_COLOR=1 ${process.execPath} ${join(projectRoot, 'bin', 'vaat.js')} shell ${sample}; echo SESSION-ENDED $?; sleep 600`;
  tmux('new-session', '-d', '-s', 'vaat', '-x', '120', '-y', '30', cmd);
}

beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'vaat-tty-')); });
afterAll(() => {
  spawnSync('tmux', ['-L', socket, 'kill-server']);
  rmSync(tmp, { recursive: true, force: true });
});

describe('vaat shell at a terminal (tmux)', () => {
  it('prompt, completion, pager, errors and history', async () => {
    startSession();
    await waitFor(/^vaat> ?$/m);

    // a command name, then an option, completed with Tab
    keys('cpuinf', 'Tab');
    await waitFor(/^vaat> cpuinfo ?$/m);
    keys('--tl', 'Tab');
    await waitFor(/^vaat> cpuinfo --tlb ?$/m);
    keys('Enter');
    const want = (await vaat(['cpuinfo', '-t', sample])).stdout.trimEnd().split('\n');
    const s1 = await waitFor(/^vaat> ?$/m);
    for (const line of want) expect(s1).toContain(line.trimEnd());

    // a symbol name, then a struct member (two candidates: Tab Tab lists them)
    keys('C-l', 'lockinfo cgroup_mu', 'Tab');
    await waitFor(/^vaat> lockinfo cgroup_mutex ?$/m);
    keys('C-u', 'p init_task.co', 'Tab');
    await waitFor(/^vaat> p init_task\.com$/m);
    keys('Tab');
    const listed = await waitFor(/init_task\.comm\s+init_task\.compat_robust_list/);
    expect(listed).toMatch(/^vaat> p init_task\.com$/m);
    keys('m', 'Enter');
    await waitFor(/= "swapper\/0"\nvaat> ?$/m);

    // longer than the screen: through less; q leaves it
    keys('C-l', 'ps', 'Enter');
    const paged = await waitFor(/^:$/m);
    expect(paged.split('\n')[0]).toMatch(/^\s*PID\s+PPID\s+CPU/);
    expect(lastLine(paged)).toBe(':');
    keys('q');
    await waitFor(/^vaat> ?$/m);

    // a failing command: one line, and the prompt again
    keys('C-l', 'bt 99999', 'Enter');
    const failed = await waitFor(/^vaat> ?$/m);
    expect(failed).toMatch(/^vaat: .*99999.*\nvaat> ?$/m);

    // history: Up brings back the last command; it is kept across sessions
    keys('Up');
    await waitFor(/^vaat> bt 99999$/m);
    keys('C-u', 'quit', 'Enter');
    await waitFor(/^SESSION-ENDED 0$/m);
    const hist = join(tmp, 'state', 'vaat', 'history');
    expect(existsSync(hist)).toBe(true);
    expect(readFileSync(hist, 'utf8').split('\n').filter(Boolean)).toEqual(['cpuinfo --tlb', 'p init_task.comm', 'ps', 'bt 99999', 'quit']);
    tmux('kill-session', '-t', 'vaat');
    startSession();
    await waitFor(/^vaat> ?$/m);
    keys('Up', 'Up');
    await waitFor(/^vaat> bt 99999$/m);
    keys('C-u', 'C-d');
    await waitFor(/^SESSION-ENDED 0$/m);
  });
});
