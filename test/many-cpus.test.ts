/**
 * Many CPUs (issue 13): CPU lists as the kernel writes them (`-c 0-3,8`), only the CPUs asked for,
 * and per-CPU tables that group alike CPUs (offline, idle) into one row with a range.
 */
import { describe, expect, it } from 'vitest';
import { cpuListString, parseCpuList } from '../src/object/helpers.js';
import { groupAlike } from '../src/output/cpu-rows.js';
import { dumpsOf, primaryTruth, type Json } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';

describe('CPU lists', () => {
  it('parse ranges and single CPUs, sorted without repeats; cpuListString writes them back', () => {
    expect(parseCpuList('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(parseCpuList('8,3,1-3')).toEqual([1, 2, 3, 8]);
    expect(cpuListString(parseCpuList('0-3,8-11,64'))).toBe('0-3,8-11,64');
  });
  it('refuse what is not a CPU list, and numbers no kernel has (no 4-billion-entry array)', () => {
    expect(() => parseCpuList('a')).toThrow(/bad CPU list/);
    expect(() => parseCpuList('5-2')).toThrow(/bad CPU range/);
    expect(() => parseCpuList('0-4000000000')).toThrow(/beyond any kernel's CPU numbers/);
  });
});

describe('alike CPUs share a row', () => {
  it('merges consecutive CPUs whose other cells are equal, and nothing else', () => {
    const rows = [[0, 'yes', 'a'], [1, 'yes', 'idle'], [2, 'yes', 'idle'], [3, 'no', 'idle'], [4, 'no', 'idle'], [6, 'no', 'idle']];
    expect(groupAlike(rows, [0, 1, 2, 3, 4, 6])).toEqual([[0, 'yes', 'a'], ['1-2', 'yes', 'idle'], ['3-4', 'no', 'idle'], [6, 'no', 'idle']]);
  });
});

const d = dumpsOf('sysrq-basic', { primary: true })[0];

describe('cpuinfo -c', () => {
  it('lists only the CPUs asked for that the dump has', async () => {
    const possible: number[] = primaryTruth(d.scenario).cpus.possible;
    const want = [possible[1], possible[possible.length - 1]];
    const r = await vaatJson(['cpuinfo', d.path, '-c', `${want.join(',')},4000`]);
    expect(r.topology.cpus.map((c: Json) => c.cpu)).toEqual(want);
    // the masks are the dump's, whatever was asked
    expect(r.topology.possible).toEqual(possible);
    const t = await vaatJson(['cpuinfo', d.path, '-t', '-c', String(want[0])]);
    expect(t.tlb.cpus.map((c: Json) => c.cpu)).toEqual([want[0]]);
  });
  it('says so when none of them exists (exit 1), and refuses a bad list (exit 2)', async () => {
    const none = await vaat(['cpuinfo', d.path, '-c', '4000']);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no possible CPU in '4000'/);
    const bad = await vaat(['cpuinfo', d.path, '-c', 'x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad CPU list/);
  });
});

describe('runq on many CPUs', () => {
  it('idle CPUs with nothing queued share one row and one line; -c lists them one by one', async () => {
    const { openVmcore } = await import('../src/vmcore.js');
    const { builtinCommand } = await import('../commands/index.js');
    const { Output } = await import('../src/output/sink.js');
    const vm = openVmcore(d.path);
    const spec = builtinCommand('runq');
    const r = await spec.run({ vm, options: {}, args: [] });
    // the dump's CPU 0, made idle with nothing queued, stands for CPUs 10-40 online and 41-63 offline
    const idle = (cpu: number, online: boolean): Json => ({
      ...r.cpus[0], cpu, online, nrRunning: 0, curr: { ...r.cpus[0].curr, pid: 0, comm: `swapper/${cpu}` }, stop: null,
      rt: { ...r.cpus[0].rt, entities: [] }, dl: { ...r.cpus[0].dl, entities: [] }, cfs: { ...r.cpus[0].cfs, entities: [] },
    });
    const many = { ...r, cpus: [...r.cpus, ...Array.from({ length: 54 }, (_, i) => idle(10 + i, 10 + i <= 40))] };
    const text = (options: Json): string => { const o = new Output({ plain: true }); spec.render(many, o, options); return o.text(); };
    const grouped = text({});
    expect(grouped).toMatch(/^ *10-40 +yes +- +0 .*idle/m);
    expect(grouped).toMatch(/^ *41-63 +no +- +0 .*idle/m);
    expect(grouped).toContain('idle, nothing queued (-c LIST shows them one by one): 10-40, 41-63 (offline)');
    expect(grouped).not.toMatch(/^CPU 2[0-9] /m);
    const each = text({ cpus: '10-63' });
    expect(each).toMatch(/^CPU 25 +RUNQUEUE/m);
    expect(each).not.toContain('idle, nothing queued');
    vm.close();
  });
});
