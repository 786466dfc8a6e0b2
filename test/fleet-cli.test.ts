/**
 * `-d DIR` fleet runs: discovery by content over a kdump-style tree, one entry per dump equal to
 * the single-dump run, failures as rows, Ctrl-C, and report directories with skip-on-rerun.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vaat, vaatJson } from './cli.js';
import { projectRoot, type Json } from './fixtures.js';
import { makeFleetDir, type FleetDir } from './fleet-dir.js';
import { discoverDumps } from '../src/fleet/discover.js';
import { loadNative } from '../src/dump/native.js';

let fd: FleetDir;
beforeAll(() => { fd = makeFleetDir(); });
afterAll(() => { if (fd) rmSync(fd.root, { recursive: true, force: true }); });

/** where types came from differs between a fresh process and a worker that parsed this kernel's BTF before */
function withoutSources(r: Json): Json {
  const c = structuredClone(r);
  if (c.kernel) delete c.kernel;
  if (c.sys?.kernel) delete c.sys.kernel;
  return c;
}

describe('discovery', () => {
  it('finds every dump by content, follows the kdump layout, skips non-dumps and loops', () => {
    const native = loadNative();
    const d = discoverDumps(fd.root, { detect: (p) => native.detectFormat(p) });
    expect(d.dumps.map((x) => x.path).sort()).toEqual([...fd.links.map((l) => l.path), fd.incomplete].sort());
    const inc = d.dumps.find((x) => x.path === fd.incomplete)!;
    expect(inc.incomplete).toBe(true);
    expect(inc.dirHost).toBe('web1');
    expect(inc.dirDate).toBe('2026-11-21-21:41');
    expect(d.dumps.find((x) => x.path.endsWith('nested/vmcore.flat'))!.format).toBe('flattened+kdump-compressed');
    expect(d.dumps.find((x) => x.path.endsWith('vmcore.lzo'))!.format).toBe('lzop+elf');
    expect(d.skipped.find((s) => s.path === fd.nonDump)?.reason).toMatch(/not a dump/);
    expect(d.skipped.some((s) => s.path.endsWith('nested/loop') && /already visited/.test(s.reason))).toBe(true);
  });
});

describe('vaat <command> -d DIR', () => {
  let sysAll: Json[];
  let summaryAll: Json[];
  beforeAll(async () => {
    sysAll = await vaatJson(['sys', '-d', fd.root]);
    summaryAll = await vaatJson(['summary', '-d', fd.root]);
  });

  it('sys: one entry per dump, equal to the single-dump run', async () => {
    expect(sysAll).toHaveLength(fd.links.length + 1);
    for (const l of fd.links) {
      const e = sysAll.find((x) => x.path === l.path);
      expect(e, l.path).toBeDefined();
      expect(e.ok).toBe(true);
      expect(withoutSources(e.result)).toEqual(withoutSources(await vaatJson(['sys', l.path])));
    }
  });

  it('summary: one entry per dump, equal to the single-dump run', async () => {
    expect(summaryAll).toHaveLength(fd.links.length + 1);
    for (const l of fd.links) {
      const e = summaryAll.find((x) => x.path === l.path);
      expect(e.ok).toBe(true);
      expect(withoutSources(e.result)).toEqual(withoutSources(await vaatJson(['summary', l.path])));
    }
  });

  it('a dump that cannot be analysed is a row with its one-line error, not the end of the run', async () => {
    const e = sysAll.find((x) => x.path === fd.incomplete);
    expect(e.ok).toBe(false);
    expect(e.incomplete).toBe(true);
    expect(e.error).toMatch(/vmcore-incomplete/);
    expect(e.error).not.toContain('\n');
    const r = await vaat(['sys', '-d', fd.root, '--plain']);
    expect(r.status).toBe(0);
    const rows = r.stdout.split('\n');
    expect(rows[0]).toMatch(/^VMCORE\s+HOST\s+RELEASE\s+DATE/);
    expect(rows[0]).toMatch(/ERROR$/);
    for (const l of fd.links) expect(rows.some((x) => x.startsWith(l.path.slice(fd.root.length + 1) + ' '))).toBe(true);
    expect(rows.find((x) => x.includes('vmcore-incomplete (incomplete)'))).toMatch(/vmcore-incomplete: /);
    expect(r.stdout).toContain(`${fd.links.length + 1} vmcores: ${fd.links.length} analysed, 1 failed`);
  });

  it('exits non-zero only when nothing could be analysed', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'vaat-fleet-empty-'));
    writeFileSync(join(empty, 'vmcore-dmesg.txt'), 'x'.repeat(10000));
    const r = await vaat(['sys', '-d', empty]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no vmcore found/);
    const bad = mkdtempSync(join(tmpdir(), 'vaat-fleet-bad-'));
    writeFileSync(join(bad, 'vmcore'), readFileSync(fd.incomplete));
    expect((await vaat(['sys', '-d', bad])).status).toBe(1);
    for (const d of [empty, bad]) rmSync(d, { recursive: true, force: true });
  });

  it('Ctrl-C stops the workers and prints what finished', async () => {
    // report -j 1 writes each vmcore's summary.json as it finishes: interrupt right after the
    // first one appears, so the run is caught half way whatever the machine's speed.
    const out = mkdtempSync(join(tmpdir(), 'vaat-fleet-int-'));
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'vaat.js'), 'report', '-d', fd.root, '-o', out, '-j', '1', '--json'], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    // a vmcore reported in full: its summary.json is written last, after sys.json and the rest
    // (vmcore-incomplete fails to open and gets a summary.json alone: that is not a finished report)
    const finished = () => readdirSync(out).filter((d) => existsSync(join(out, d, 'summary.json')) && existsSync(join(out, d, 'sys.json'))).length;
    const status = await new Promise<number | null>((res) => {
      const poll = setInterval(() => {
        if (finished() > 0) { clearInterval(poll); child.kill('SIGINT'); }
      }, 20);
      child.on('exit', (code) => { clearInterval(poll); res(code); });
    });
    try {
      expect(status).toBe(130);
      const done = finished();
      expect(done).toBeGreaterThan(0);
      expect(done).toBeLessThan(fd.links.length + 1);
      const r = JSON.parse(stdout) as Json;
      expect(r.written.length).toBeGreaterThan(0);
      expect(JSON.stringify(r)).toMatch(/interrupted/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('vaat report', () => {
  it('writes a directory per vmcore, records failures, indexes, and skips unchanged dumps on re-run', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'vaat-fleet-report-'));
    const out = join(tmp, 'r');
    mkdirSync(out);
    const r1 = await vaatJson(['report', '-d', fd.root, '-o', out]);
    expect(r1.written).toHaveLength(fd.links.length + 1);
    expect(r1.skipped).toHaveLength(0);
    const dir = join(out, 'db2-2026-11-21-21:47__vmcore');
    for (const f of ['sys', 'log', 'bt-a', 'stacks', 'runq', 'ps', 'lockinfo-blocked', 'cgroupinfo', 'cpuinfo', 'signature']) {
      expect(existsSync(join(dir, `${f}.txt`)), f).toBe(true);
      expect(existsSync(join(dir, `${f}.json`)), f).toBe(true);
    }
    expect(readFileSync(join(dir, 'sys.txt'), 'utf8')).toMatch(/NODENAME: vaat-dev-cgroup-mutex-hung/);
    expect(JSON.parse(readFileSync(join(dir, 'lockinfo-blocked.json'), 'utf8'))).toBeTruthy();
    const sum = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(sum.buildId).toBe('bc6a64c9b9d16077718a6681f0eb539e2bc860be');
    expect(sum.analyses.every((a: Json) => a.ok)).toBe(true);
    expect(sum.title).toMatch(/^hung task: blocked on cgroup_mutex/);
    const inc = JSON.parse(readFileSync(join(out, 'web1-2026-11-21-21:41__vmcore-incomplete', 'summary.json'), 'utf8'));
    expect(inc.analyses.some((a: Json) => !a.ok && a.error.length > 0)).toBe(true);
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
    expect(index).toHaveLength(fd.links.length + 1);
    expect(readFileSync(join(out, 'index.txt'), 'utf8')).toContain('BUG: kernel NULL pointer dereference in vaat_parse_request [vaat_oops]');

    const r2 = await vaatJson(['report', '-d', fd.root, '-o', out]);
    expect(r2.written).toHaveLength(0);
    expect(r2.skipped).toHaveLength(fd.links.length + 1);
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).generatedAt).toBe(sum.generatedAt);
    rmSync(tmp, { recursive: true, force: true });
  });
});
