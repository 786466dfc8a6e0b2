/**
 * `vaat shell`: the dump opened once, commands typed without it. Run the way scripts run it
 * (`-c 'cmd; cmd'`, commands on stdin) and checked against the one-shot CLI on every fixture:
 * the same answers, a failing command reported in one line while the session goes on, pipes
 * and redirections handed to the shell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumps, dumpsOf, projectRoot } from './fixtures.js';
import { openVmcore } from '../src/vmcore.js';
import { Session, WARM_UP } from '../cli/session.js';
import { loadCommands } from '../cli/load-commands.js';
import { vaat, type CliResult } from './cli.js';

const sample = join(projectRoot, 'sample', 'vmcore-cgroup-mutex-hung.kdump-zstd');
let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'vaat-session-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const env = (): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: join(tmp, 'state') };
  delete e.VAAT_VMCORE;
  return e;
};

/** the JSON documents a session printed one after another (each starts at column 0) */
function jsonDocs(stdout: string): unknown[] {
  return stdout.split(/^(?=[[{])/m).filter((s) => s.trim()).map((s) => JSON.parse(s));
}

/** the commands the issue names, as typed in the session */
const COMMANDS = ['cpuinfo -t', 'lockinfo cgroup_mutex', 'p runqueues:2 --member nr_running', 'bt 1'];

describe.each(dumps.map((d) => [`${d.scenario}/${d.name}`, d] as const))('%s: the session answers as the CLI does', (_, d) => {
  it(COMMANDS.join('; '), async () => {
    const cli: CliResult[] = [];
    for (const c of COMMANDS) cli.push(await vaat([...c.split(' '), d.path, '--json'], { env: env() }));
    const s = await vaat(['shell', d.path, '-c', COMMANDS.map((c) => `${c} --json`).join('; ')], { env: env() });
    // the one-shot runs' JSON, in order, is the session's stdout; their error lines its stderr
    expect(jsonDocs(s.stdout)).toEqual(cli.filter((r) => r.status === 0).map((r) => JSON.parse(r.stdout)));
    expect(s.stderr).toBe(cli.map((r) => r.stderr).join(''));
    expect(s.status).toBe(Math.max(...cli.map((r) => r.status ?? 99)));
  });
});

describe('the session, non-interactive', () => {
  it('reads commands from stdin, one per line; a failing command is one line and the rest still run', async () => {
    const input = ['# a comment', 'lockinfo cgroup_mutex --json', 'bt 99999', 'no-such-command', '', 'p init_task.comm --json'].join('\n');
    const r = await vaat(['shell', sample], { env: env(), input });
    const [lock, comm] = jsonDocs(r.stdout) as [{ lock: { owner: { comm: string } } }, { value: string }[]];
    expect(lock.lock.owner.comm).toBe((await vaat(['lockinfo', sample, 'cgroup_mutex', '--json'])).stdout.match(/"comm": "([^"]+)"/)![1]);
    expect(comm[0].value).toBe('swapper/0');
    const errs = r.stderr.trim().split('\n');
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatch(/^vaat: .*99999/);
    expect(errs[1]).toBe("vaat: unknown command 'no-such-command' (type help)");
    expect(r.status).not.toBe(0); // the highest status of its commands
  });

  it('`vaat VMCORE --shell` is the same session; quit ends it', async () => {
    const r = await vaat([sample, '--shell'], { env: env(), input: 'p init_task.comm\nquit\np jiffies\n' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe((await vaat(['p', sample, 'init_task.comm'], { env: env() })).stdout);
  });

  it('`cmd | pipeline` and `cmd > file` go to the shell; `->` is a member path, not a redirection', async () => {
    const out = join(tmp, 'lock.txt');
    const r = await vaat(['shell', sample, '-c', `lockinfo cgroup_mutex | grep -c 'owner'; lockinfo cgroup_mutex > ${out}; p init_task->comm`], { env: env() });
    expect(r.stderr).toBe('');
    const full = (await vaat(['lockinfo', 'cgroup_mutex', sample], { env: env() })).stdout;
    const [count, comm] = r.stdout.split('\n');
    expect(Number(count)).toBe(full.split('\n').filter((l) => l.includes('owner')).length);
    expect(comm).toMatch(/comm = "swapper\/0"/);
    expect(readFileSync(out, 'utf8')).toBe(full);
  });

  it('--script prints what the CLI prints, for the session\'s dump', async () => {
    const r = await vaat(['shell', sample, '-c', 'cpuinfo -t --script'], { env: env() });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe((await vaat(['cpuinfo', '-t', sample, '--script'], { env: env() })).stdout);
  });

  it('the session\'s dump typed again is ignored; open options belong to `vaat shell`', async () => {
    const r = await vaat(['shell', sample, '-c', `lockinfo ${sample} cgroup_mutex --json; ps --vmlinux /nonexistent`], { env: env() });
    expect(jsonDocs(r.stdout)).toEqual([JSON.parse((await vaat(['lockinfo', 'cgroup_mutex', sample, '--json'], { env: env() })).stdout)]);
    expect(r.stderr.trim()).toMatch(/^vaat: --vmlinux: say how to open the dump, so they go to `vaat shell`/);
  });

  it('a dump that cannot be opened ends the session at once, in one line, exit 1', async () => {
    const bad = join(tmp, 'not-a-dump');
    writeFileSync(bad, 'x'.repeat(10000));
    const r = await vaat(['shell', bad, '-c', 'sys'], { env: env() });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(bad);
  });
});


/**
 * The prompt's warm-up (Session.warmUp): run in-process on each kernel set's primary
 * cgroup-mutex-hung dump, it runs every step, stops when told, and leaves every answer as it was.
 */
describe.each(dumpsOf('cgroup-mutex-hung', { primary: true }).map((d) => [`${d.scenario}/${d.name}`, d] as const))('%s: the session\'s warm-up', (_, d) => {
  const QUESTIONS = ['lockinfo cgroup_mutex --json', 'bt 1 --json', 'stacks --json', 'cpuinfo -t --json'];
  async function answers(session: Session): Promise<string[]> {
    const out: string[] = [];
    for (const q of QUESTIONS) {
      let text = '';
      await session.execLine(q, { color: false, err: (s) => { text += s; }, write: async (s) => { text += s; } });
      out.push(text);
    }
    return out;
  }
  it('runs every step, stops when told, and changes no answer', async () => {
    const { commands } = await loadCommands();
    const cold = new Session(openVmcore(d.path), commands);
    const warm = new Session(openVmcore(d.path), commands);
    try {
      expect(await warm.warmUp(() => true)).toBe(0);
      expect(await warm.warmUp(() => false)).toBe(WARM_UP.length);
      expect(await answers(warm)).toEqual(await answers(cold));
    } finally {
      cold.vm.close();
      warm.vm.close();
    }
  });
});
