/**
 * crash's `sys` figures on every real dump, against extra.json's `sys` (drgn 0.0.33 with the
 * rule each figure follows) and, where drgn has no answer, crash 8.0.2's sys.txt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { freePages, hz, loadAverage, nodePresentPages, totalRam, uptime, utsname, zonesFreePages } from '../src/kernel/sys.js';
import { sysInfo } from '../src/analysis/sys.js';
import { humanDuration, loadAverageText, memorySizeText } from '../src/output/style.js';
import { dumps, fixturesDir, primaryTruth, truth } from './fixtures.js';

/** crash's `sys` header fields; null where crash could not read the dump (no arm64 crash here) */
function crashSys(scenario: string): Record<string, string> | null {
  const p = join(fixturesDir, scenario, 'truth', 'crash', 'sys.txt');
  if (!existsSync(p)) return null;
  const out: Record<string, string> = {};
  for (const l of readFileSync(p, 'utf8').split('\n')) {
    const m = /^\s*([A-Z ]+): (.*)$/.exec(l);
    if (m) out[m[1].trim()] = m[2];
  }
  return out;
}

describe('memorySizeText (crash style)', () => {
  it.each([[130939 * 4096, '511.5 MB'], [2 ** 31, '2 GB'], [17059545088, '15.9 GB'], [65403 * 4096, '255.5 MB'], [1536, '1.5 KB']])('%d → %s', (b, s) => {
    expect(memorySizeText(b)).toBe(s);
  });
});

describe.each(dumps)('$scenario/$name', ({ scenario, path }) => {
  let vm: Vmcore;
  const sys = truth(scenario, 'extra.json').sys;
  const crash = crashSys(scenario);
  beforeAll(() => { vm = openVmcore(path); });
  afterAll(() => vm?.close());

  it('uname from init_uts_ns', () => {
    const u = utsname(vm);
    expect({ nodename: u.nodename, release: u.release, version: u.version, machine: u.machine, sysname: u.sysname })
      .toEqual({ nodename: sys.nodename, release: sys.release, version: sys.version, machine: sys.machine, sysname: sys.sysname });
  });

  it('HZ and uptime from jiffies_64', () => {
    expect(hz(vm)).toBe(sys.uptime.hz);
    const up = uptime(vm);
    expect(up.jiffies64).toBe(BigInt(sys.uptime.jiffies_64));
    expect(up.initialJiffies).toBe(BigInt(sys.uptime.initial_jiffies));
    expect(up.seconds).toBeCloseTo(sys.uptime.seconds, 6);
    expect(humanDuration(up.seconds)).toBe(sys.uptime.text);
    if (crash) expect(humanDuration(up.seconds)).toBe(crash.UPTIME);
  });

  it('load average as /proc/loadavg rounds it', () => {
    const la = loadAverage(vm);
    expect(la.raw.map(Number)).toEqual(sys.avenrun_raw);
    expect(la.values).toEqual(sys.load_average);
    expect(loadAverageText(la.values)).toBe(sys.load_average_str);
    if (crash) expect(loadAverageText(la.values)).toBe(crash['LOAD AVERAGE']);
  });

  it('memory: node present pages (crash MEMORY) and totalram', () => {
    expect(nodePresentPages(vm)).toBe(sys.memory.node_present_pages);
    expect(totalRam(vm)).toEqual({ pages: sys.memory.totalram_pages, bytes: sys.memory.bytes });
  });

  it('free pages: crash\'s kmem -i FREE; every zone\'s count sums to vm_zone_stat (the fallback where it has no symbol)', () => {
    const kmem = join(fixturesDir, scenario, 'truth', 'crash', 'kmem_-i.txt');
    if (existsSync(kmem)) expect(freePages(vm)).toBe(Number(/^\s*FREE\s+(\d+)/m.exec(readFileSync(kmem, 'utf8'))![1]));
    expect(zonesFreePages(vm)).toBe(freePages(vm));
    expect(freePages(vm)).toBeGreaterThan(0);
    expect(freePages(vm)).toBeLessThanOrEqual(totalRam(vm).pages);
  });

  it('the sys summary: tasks, CPUs, date, memory, panic', () => {
    const r = sysInfo(vm);
    expect(r.warnings).toEqual([]);
    expect(r.tasks).toEqual({ total: sys.tasks, threads: sys.tasks_breakdown.pid_idr_tasks, idle: sys.tasks_breakdown.idle_tasks });
    expect({ cpus: r.cpus, offline: r.cpusOffline }).toEqual({ cpus: sys.cpus_possible, offline: sys.cpus_offline });
    expect(r.memory!.nodePresentPages).toBe(sys.memory.node_present_pages);
    expect(r.memory!.text).toBe(memorySizeText(sys.memory.node_present_pages * vm.dump.attrs.pageSize));
    if (sys.crash_time_utc) expect(r.date!.utc).toBe(sys.crash_time_utc);
    expect(r.state).toBe('TASK_RUNNING (PANIC)');
    expect(r.pid).toBe(primaryTruth(scenario).panic_task.tid);
    if (!crash) return; // crash's own header, where crash read the dump
    expect(`${r.cpus}${r.cpusOffline ? ` [OFFLINE: ${r.cpusOffline}]` : ''}`).toBe(crash.CPUS);
    expect(r.memory!.text).toBe(crash.MEMORY);
    expect(r.dateText).toBe(crash.DATE);
    expect(r.panic.text).toBe(crash.PANIC);
    expect(r.partialDump).toBe(crash.DUMPFILE.endsWith('[PARTIAL DUMP]'));
    expect(r.taint !== 'Not tainted').toBe(crash.KERNEL.endsWith('[TAINTED]'));
    for (const k of ['NODENAME', 'RELEASE', 'VERSION'] as const) expect(r[k.toLowerCase() as 'nodename']).toBe(crash[k]);
    expect(`${r.machine}  (${r.mhz} Mhz)`).toBe(crash.MACHINE);
  });
});
