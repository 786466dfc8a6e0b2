/**
 * Commands typed as kernel engineers type them: the dump anywhere among the arguments, found by
 * content, or no dump at all — then `$VAAT_VMCORE`, else the newest dump under the crash directory
 * (kdump-tools' and RHEL's layouts), named on stderr. Ambiguous arguments are refused with a reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumps, projectRoot } from './fixtures.js';
import { vaat, type CliResult } from './cli.js';

/** the bundled sample: a dump whose symbols vaat reads */
const sample = join(projectRoot, 'sample', 'vmcore-cgroup-mutex-hung.kdump-zstd');
let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'vaat-current-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** the environment with no current dump of its own */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', VAAT_CRASH_DIR: join(tmp, 'no-such-dir') };
  delete e.VAAT_VMCORE;
  return { ...e, ...extra };
}

/**
 * What a run answers: exit status, stdout, and stderr without the line naming the chosen dump;
 * the dump's path (in error lines, in `sys`) as <dump>, since a link to it has another name.
 */
function answer(r: CliResult, file?: string): { status: number | null; stdout: string; stderr: string } {
  const p = (s: string) => (file ? s.split(file).join('<dump>') : s);
  return { status: r.status, stdout: p(r.stdout), stderr: p(r.stderr.split('\n').filter((l) => !l.startsWith('vaat: dump: ')).join('\n')) };
}

describe.each(dumps.map((d) => [`${d.scenario}/${d.name}`, d] as const))('%s: the same answer however the dump is given', (_, d) => {
  it('lockinfo cgroup_mutex VMCORE = lockinfo VMCORE cgroup_mutex', async () => {
    const a = await vaat(['lockinfo', 'cgroup_mutex', d.path, '--json'], { env: env() });
    const b = await vaat(['lockinfo', d.path, 'cgroup_mutex', '--json'], { env: env() });
    const c = await vaat(['lockinfo', '--json', d.path, 'cgroup_mutex'], { env: env() }); // options first
    expect(answer(a)).toEqual(answer(b));
    expect(answer(c)).toEqual(answer(a));
    if (a.status === 0) expect(JSON.parse(a.stdout).lock.symbol).toBe('cgroup_mutex');
  });

  it('cpuinfo -t with VAAT_VMCORE, and with the dump under a crash directory', async () => {
    const named = await vaat(['cpuinfo', '-t', d.path, '--json'], { env: env() });
    const fromEnv = await vaat(['cpuinfo', '-t', '--json'], { env: env({ VAAT_VMCORE: d.path }) });
    expect(answer(fromEnv)).toEqual(answer(named));
    expect(fromEnv.stderr).toContain(`vaat: dump: ${d.path} (from VAAT_VMCORE)`);
    // kdump-tools' layout: /var/crash/<YYYYMMDDHHMM>/dump.<YYYYMMDDHHMM>
    const crash = mkdtempSync(join(tmp, 'crash-'));
    mkdirSync(join(crash, '202612051520'));
    symlinkSync(d.path, join(crash, '202612051520', 'dump.202612051520'));
    writeFileSync(join(crash, '202612051520', 'dmesg.202612051520'), 'not a dump\n'.repeat(1000));
    const fromDir = await vaat(['cpuinfo', '-t', '--json'], { env: env({ VAAT_CRASH_DIR: crash }) });
    expect(answer(fromDir, join(crash, '202612051520', 'dump.202612051520'))).toEqual(answer(named, d.path));
    expect(fromDir.stderr).toContain(`vaat: dump: ${join(crash, '202612051520', 'dump.202612051520')} (newest of 1 under ${crash})`);
  });
});

describe('the newest dump under the crash directory', () => {
  const [older, newer, newest] = dumps;
  let crash: string;
  beforeAll(() => {
    crash = mkdtempSync(join(tmp, 'layouts-'));
    // RHEL's kdump: <host>-<YYYY-MM-DD-HH:MM:SS>/vmcore
    mkdirSync(join(crash, '127.0.0.1-2099-01-01-10:00:00'));
    symlinkSync(older.path, join(crash, '127.0.0.1-2099-01-01-10:00:00', 'vmcore'));
    writeFileSync(join(crash, '127.0.0.1-2099-01-01-10:00:00', 'vmcore-dmesg.txt'), 'dmesg\n'.repeat(2000));
    // kdump-tools: <YYYYMMDDHHMM>/dump.<YYYYMMDDHHMM>, a day later
    mkdirSync(join(crash, '209901021000'));
    symlinkSync(newer.path, join(crash, '209901021000', 'dump.209901021000'));
    // a capture that did not finish, later still: used only when nothing complete is there
    mkdirSync(join(crash, '127.0.0.1-2099-01-03-10:00:00'));
    symlinkSync(newest.path, join(crash, '127.0.0.1-2099-01-03-10:00:00', 'vmcore-incomplete'));
    // a directory name that carries no date: its file's mtime counts (older than the dates above)
    mkdirSync(join(crash, 'copied'));
    symlinkSync(newest.path, join(crash, 'copied', 'some-name'));
  });

  it('is chosen by the capture date in the directory names, complete captures first, and named on stderr', async () => {
    const r = await vaat(['sys', '--json'], { env: env({ VAAT_CRASH_DIR: crash }) });
    const chosen = join(crash, '209901021000', 'dump.209901021000');
    expect(r.stderr).toMatch(new RegExp(`^vaat: dump: ${chosen.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(newest of \\d+ under `));
    expect(answer(r, chosen)).toEqual(answer(await vaat(['sys', newer.path, '--json'], { env: env() }), newer.path));
  });

  it('--crash-dir overrides VAAT_CRASH_DIR; VAAT_VMCORE overrides both', async () => {
    const r = await vaat(['sys', '--json', '--crash-dir', crash], { env: env() });
    expect(r.stderr).toContain('dump.209901021000');
    const e = await vaat(['sys', '--json', '--crash-dir', crash], { env: env({ VAAT_VMCORE: older.path }) });
    expect(e.stderr).toContain(`${older.path} (from VAAT_VMCORE)`);
  });
});

describe('refusals', () => {
  it('no dump anywhere is a usage error that says where it looked', async () => {
    const r = await vaat(['cpuinfo', '-t'], { env: env() });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vaat: no dump given, VAAT_VMCORE is not set and there is no dump under .*no-such-dir/);
  });

  it('a dump file whose name is also a valid operand is refused, saying so', async () => {
    const dir = mkdtempSync(join(tmp, 'ambiguous-'));
    symlinkSync(sample, join(dir, 'cgroup_mutex'));
    const r = await vaat(['lockinfo', 'cgroup_mutex'], { env: env(), cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^vaat: 'cgroup_mutex' is both a dump file here and a symbol of the dump, a valid operand of lockinfo/);
    // written as a path it is the file
    expect((await vaat(['lockinfo', './cgroup_mutex', '--blocked', '--json'], { env: env(), cwd: dir })).status).toBe(0);
  });

  it('two dumps are refused', async () => {
    const r = await vaat(['lockinfo', dumps[0].path, 'cgroup_mutex', dumps[1].path], { env: env() });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/are all dumps: give one dump per command/);
  });

  it('a file given to a command that takes no operands is opened as the dump, and its fault named', async () => {
    const f = join(tmp, 'notes.txt');
    writeFileSync(f, 'x'.repeat(8192));
    const r = await vaat(['sys', f], { env: env({ VAAT_VMCORE: dumps[0].path }) });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^vaat: ${f}: .*not a`));
  });
});
