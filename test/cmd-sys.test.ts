/** `vaat sys` through the CLI: the JSON shape and crash's header layout. */
import { describe, expect, it } from 'vitest';
import { dumps, dumpsOf, taintAtCrash, truth } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';

const qemu = dumps.find((d) => d.scenario === 'qemu-dump')!;

describe('vaat sys', () => {
  it.each(dumpsOf('cgroup-mutex-hung', { primary: true }))('--json has every field, with the hung-task panic: $scenario', async (hung) => {
    const r = await vaatJson(['sys', hung.path]);
    const sys = truth(hung.scenario, 'extra.json').sys;
    expect(Object.keys(r).sort()).toEqual([
      'command', 'cpu', 'cpus', 'cpusOffline', 'cpusOnline', 'date', 'dateText', 'dumpLevel', 'dumpfile', 'kernel', 'loadAverage',
      'machine', 'memory', 'mhz', 'nodename', 'panic', 'partialDump', 'pid', 'release', 'state', 'taint', 'taintLetters', 'task', 'tasks', 'uptime', 'version', 'warnings',
    ]);
    expect(r.tasks.total).toBe(sys.tasks);
    // the letters the kernel printed in its own "Tainted:" lines (drgn's dmesg tail), minus G
    const printed = taintAtCrash(hung.scenario)!;
    expect(r.taintLetters).toBe(printed.replace(/^Tainted: |[G\s]/g, ''));
    expect(r.loadAverage.text).toBe(sys.load_average_str);
    expect(r.uptime.text).toBe(sys.uptime.text);
    const t = truth(hung.scenario);
    expect(r.panic).toMatchObject({ message: t.panic.message, source: 'panic', cpu: { cpu: t.panic.panic_cpu_variable, source: 'panic_cpu' } });
    expect({ pid: r.pid, command: r.command }).toEqual({ pid: t.panic_task.tid, command: t.panic_task.comm });
    expect(r.task).toBe(truth(hung.scenario).panic_task.task_struct);
    expect(r.taint).toBe(printed);
  });

  it('prints crash\'s header', async () => {
    const r = await vaat(['sys', qemu.path]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\s+CPUS: 4 \[OFFLINE: 3\]$/m);
    expect(r.stdout).toMatch(/^\s+DATE: Sat Nov 21 22:04:34 UTC 2026 {2}\(no CRASHTIME: last timer tick\)$/m);
    expect(r.stdout).toMatch(/^\s+MEMORY: 255\.5 MB$/m);
    expect(r.stdout).toMatch(/^\s+PANIC: "Kernel panic - not syncing: sysrq triggered crash"$/m);
    expect(r.stdout).toMatch(/^\s+COMMAND: "sh"$/m);
    expect(r.stdout).toMatch(/^\s+TASKS: 83$/m);
  });
});
