/** The plugin API: user commands load from VAAT_COMMANDS, list in `vaat help`, and run like built-ins; --script programs run. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dumps, primaryTruth, projectRoot } from './fixtures.js';
import { runScript, vaat, vaatJson } from './cli.js';

const examples = join(projectRoot, 'examples', 'commands');
const sysrq = dumps.find((d) => d.scenario === 'sysrq-basic' && d.name === 'vmcore.kdump-zlib')!;

describe('user commands', () => {
  it('the example command loads from VAAT_COMMANDS and shows in help with its source', async () => {
    const r = await vaat(['help'], { env: { ...process.env, VAAT_COMMANDS: examples, NO_COLOR: '1' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/uname\s+the crashed kernel's uname \(example user command\)\s+\[.*examples\/commands\/uname\.mjs\]/);
    expect(r.stdout).toMatch(/^\s+info\s/m); // built-ins are listed too
  });

  it('runs on a real dump and agrees with drgn', async () => {
    const env = { ...process.env, VAAT_COMMANDS: examples, NO_COLOR: '1' };
    const t = primaryTruth(sysrq.scenario);
    const r = await vaat(['uname', sysrq.path, '--json'], { env });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ sysname: t.uname.sysname, nodename: t.uname.nodename, release: t.uname.release, version: t.uname.version, machine: t.uname.machine });
    expect((await vaat(['uname', sysrq.path, '-n'], { env })).stdout.trim()).toBe(t.uname.nodename);
  });

  it('a broken user command is reported, and the others still work', async () => {
    const dir = mkdtempSync(join(projectRoot, 'dist', 'cmds-'));
    try {
      writeFileSync(join(dir, 'broken.mjs'), 'export default 42;\n');
      writeFileSync(join(dir, 'throws.mjs'), "throw new Error('boom at load');\n");
      const r = await vaat(['info', sysrq.path, '--json'], { env: { ...process.env, VAAT_COMMANDS: dir } });
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/broken\.mjs: default export is not a vaat command/);
      expect(r.stderr).toMatch(/throws\.mjs: failed to load: boom at load/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('--script programs compute the same answer', () => {
  it('p', async () => {
    const want = (await vaatJson(['p', sysrq.path, 'runqueues:a', '--member', 'nr_running'])).map((x: { value: number }) => x.value);
    const got = (await runScript(['p', sysrq.path, 'runqueues:a', '--member', 'nr_running'])).trim().split('\n').map((l) => Number(l.split(' ').pop()));
    expect(got).toEqual(want);
    expect(await runScript(['p', sysrq.path, 'init_task.comm'])).toContain('swapper/0');
  });
  it('sym', async () => {
    const want = (await vaatJson(['sym', sysrq.path, 'init_task']))[0].address;
    expect(await runScript(['sym', sysrq.path, 'init_task'])).toContain(want);
  });
  it('info', async () => {
    const out = await runScript(['info', sysrq.path]);
    expect(out).toContain(sysrq.kernel.release);
    expect(out).toContain('kdump-compressed');
  });
});
