/** vaat sys: crash's `sys` header — the machine, the kernel and why it died, at a glance. */
import { defineCommand } from '../src/plugin.js';
import { sysInfo, type SysResult } from '../src/analysis/sys.js';
import { shorten } from '../src/output/style.js';

export default defineCommand<{ json?: boolean }, SysResult>({
  name: 'sys',
  summary: "system summary at the crash (crash's sys): kernel, CPUs, date, uptime, load, tasks, memory, panic",
  // `vaat sys -d DIR`: one row per vmcore, a fleet inventory
  fleetRow: (r) => ({
    HOST: r.nodename,
    RELEASE: r.release,
    DATE: r.date?.utc ?? null,
    UPTIME: r.uptime?.text ?? null,
    CPUS: r.cpus,
    MEMORY: r.memory?.text ?? null,
    TASKS: r.tasks?.total ?? null,
    LOAD: r.loadAverage?.text ?? null,
    PANIC: shorten(r.panic.message, 48),
    'PANIC TASK': r.command === null ? null : `${r.command}(${r.pid}) cpu ${r.cpu}`,
    TAINT: r.taintLetters || '-',
  }),
  run({ vm }) { return sysInfo(vm); },
  render(r, out) {
    const c = out.c;
    out.kv([
      ['KERNEL', `${r.release ?? '?'}${r.taint !== 'Not tainted' ? `  [TAINTED: ${r.taint.replace(/^Tainted: /, '').replace(/ +/g, ' ').trim()}]` : ''}`],
      ['DEBUGINFO', `types: ${r.kernel.types}; symbols: ${r.kernel.symbols.split(' — ')[0]}`],
      ['DUMPFILE', `${r.dumpfile}${r.partialDump ? '  [PARTIAL DUMP]' : ''}`],
      ['CPUS', `${r.cpus}${r.cpusOffline ? ` [OFFLINE: ${r.cpusOffline}]` : ''}`],
      ['DATE', r.dateText ? `${r.dateText}${r.date?.source === 'timekeeper' ? '  (no CRASHTIME: last timer tick)' : ''}` : null],
      ['UPTIME', r.uptime?.text],
      ['LOAD AVERAGE', r.loadAverage?.text],
      ['TASKS', r.tasks?.total ?? 'unknown'],
      ['NODENAME', r.nodename],
      ['RELEASE', r.release],
      ['VERSION', r.version],
      ['MACHINE', r.mhz ? `${r.machine}  (${r.mhz} Mhz)` : r.machine],
      ['MEMORY', r.memory?.text],
      ['PANIC', r.panic.text ? c.red(r.panic.text) : null],
      ['PID', r.pid],
      ['COMMAND', r.command === null ? null : `"${r.command}"`],
      ['TASK', r.task],
      ['CPU', r.cpu],
      ['STATE', r.state],
    ]);
    for (const w of r.warnings) out.line(c.yellow(`  warning: ${w}`));
  },
});
