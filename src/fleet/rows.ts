/**
 * Fleet overview rows for built-in commands that do not define fleetRow() themselves: the key
 * fields of one vmcore as one table row, so `vaat sys -d DIR` reads as a fleet inventory.
 * A command's own fleetRow() always wins.
 */
import type { SysResult } from '../../commands/sys.js';
import type { SummaryResult } from '../../commands/summary.js';
import type { AnyCommand, FleetRow } from './jobs.js';

const short = (s: string | null | undefined, n = 48): string | null => (s ? (s.length > n ? s.slice(0, n - 1) + '…' : s) : null);
/** "Tainted: G           OE     " → "OE"; untainted → "-" */
const taint = (t: string | undefined): string | null => (!t ? null : t === 'Not tainted' ? '-' : t.replace(/^Tainted:\s*/, '').replace(/[G\s]/g, '') || '-');

const sysRow = (r: SysResult): FleetRow => ({
  HOST: r.nodename,
  RELEASE: r.release,
  DATE: r.date?.utc ?? null,
  UPTIME: r.uptime?.text ?? null,
  CPUS: r.cpus,
  MEMORY: r.memory?.text ?? null,
  TASKS: r.tasks.total,
  LOAD: r.loadAverage?.text ?? null,
  PANIC: short(r.panic.message),
  'PANIC TASK': r.command === null ? null : `${r.command}(${r.pid}) cpu ${r.cpu}`,
  TAINT: taint(r.taint),
});

const summaryRow = (r: SummaryResult): FleetRow => ({
  HOST: r.sys?.nodename ?? null,
  RELEASE: r.sys?.release ?? null,
  DATE: r.sys?.date?.utc ?? null,
  PANIC: short(r.panic?.message),
  'PANIC TASK': r.panic ? `${r.panic.comm ?? '?'}(${r.panic.pid ?? '?'}) cpu ${r.panic.cpu ?? '?'}` : null,
  'TOP FRAME': short(r.panic?.stack[0], 40),
  BLOCKED: r.blocked?.count ?? null,
  FINDINGS: r.findings.length,
  ERRORS: r.errors.length,
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const BUILTIN_ROWS: Record<string, (r: any) => FleetRow> = { sys: sysRow, summary: summaryRow };

/** the row function for a command, if it has (or we give it) one */
export function fleetRowOf(c: AnyCommand): ((r: unknown) => FleetRow) | undefined {
  return c.fleetRow ? (r: unknown) => c.fleetRow!(r) : BUILTIN_ROWS[c.name];
}
