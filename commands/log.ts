/** vaat log: the kernel log (dmesg) at the time of the crash, as crash's `log` prints it. */
import { defineCommand } from '../src/plugin.js';
import { bootTimeFromCrash, type LogRecord } from '../src/kernel/printk/index.js';
import { formatLogLines } from '../src/output/printk-text.js';
import { kernelLog, crashTime } from '../src/kernel/panic.js';
import { uptime } from '../src/kernel/sys.js';
import { UsageError } from '../src/errors/index.js';

export interface LogOptions {
  json?: boolean;
  /** -T: wall-clock timestamps */
  T?: boolean;
  /** -t: no timestamps */
  t?: boolean;
  /** --tail N: the last N records only */
  tail?: string;
  /** --level N: records at this syslog level or more urgent */
  level?: string;
}

export interface LogResult {
  /** records in the buffer, before --tail/--level */
  total: number;
  /** seconds since the epoch at boot, when -T could compute it */
  bootTime: number | null;
  records: { seq: number; time: number; level: number | null; caller: string | null; text: string }[];
  /** the lines as printed */
  lines: string[];
}

export default defineCommand<LogOptions, LogResult>({
  name: 'log',
  jsonl: 'records',
  summary: 'the kernel log buffer (crash log / dmesg)',
  options: [
    { flags: '-T', description: 'wall-clock timestamps (crash time - uptime), UTC' },
    { flags: '-t', description: 'no timestamps' },
    { flags: '--tail <n>', description: 'only the last n records' },
    { flags: '--level <n>', description: 'only records of syslog level n or more urgent (0 emerg .. 7 debug)' },
  ],
  run({ vm, options }) {
    const all = kernelLog(vm);
    let recs: readonly LogRecord[] = all;
    if (options.level !== undefined) {
      const lv = Number(options.level);
      if (!Number.isInteger(lv) || lv < 0 || lv > 7) throw new UsageError(`--level wants 0..7, not '${options.level}'`);
      recs = recs.filter((r) => r.level === null || r.level <= lv);
    }
    if (options.tail !== undefined) {
      const n = Number(options.tail);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--tail wants a count, not '${options.tail}'`);
      recs = n === 0 ? [] : recs.slice(-n);
    }
    let bootTime: number | null = null;
    if (options.T) {
      const ct = crashTime(vm);
      if (ct) {
        // boot = crash time - uptime (jiffies); the log's own last timestamp when jiffies are unreadable
        let up: bigint | readonly LogRecord[] = all;
        try { up = BigInt(Math.round(uptime(vm).seconds * 1e9)); } catch { /* keep the log's */ }
        bootTime = bootTimeFromCrash(ct.unix, up);
      }
    }
    const fmt = { noTime: !!options.t, continuation: 'crash' as const, ...(bootTime !== null ? { humanTime: { bootTime } } : {}) };
    return {
      total: all.length,
      bootTime,
      records: recs.map((r) => ({ seq: r.seq, time: Number(r.tsNsec) / 1e9, level: r.level, caller: r.callerId, text: r.text })),
      lines: recs.flatMap((r) => formatLogLines(r, fmt)),
    };
  },
  render(r, out) {
    for (const l of r.lines) out.line(l);
  },
});
