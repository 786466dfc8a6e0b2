/**
 * The kernel log's records as text: printk's own `[    2.849511] ` prefix, crash `log -T`'s wall
 * clock, and how a record of several lines continues. The model (src/kernel/printk) returns the
 * records; this is how commands print them.
 */
import { formatTimestamp, type LogRecord } from '../kernel/printk/index.js';

export { formatTimestamp };

/**
 * How a record of several lines is printed:
 *  - 'kernel': every line gets the record's prefix (the console, `dmesg` via syslog(2));
 *  - 'crash':  continuation lines are indented to the prefix width (crash `log`);
 *  - 'drgn':   continuation lines are bare (drgn's get_dmesg()).
 */
export type ContinuationStyle = 'kernel' | 'crash' | 'drgn';

export interface FormatOptions {
  /**
   * crash `log -T`: wall-clock time `[Sat Apr  4 07:41:09 2020]` instead of seconds since boot.
   * `bootTime` is seconds since the epoch (see bootTimeFromCrash in src/kernel/printk); `utc: false` uses the local zone.
   */
  humanTime?: { bootTime: number; utc?: boolean };
  /** no prefix at all (crash `log -t`) */
  noTime?: boolean;
  continuation?: ContinuationStyle;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** strftime("%a %b %e %T %Y"), the form crash `log -T` uses. */
export function formatWallClock(epochSec: number, utc = true): string {
  const d = new Date(epochSec * 1000);
  const [day, mon, date, h, m, s, y] = utc
    ? [d.getUTCDay(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCFullYear()]
    : [d.getDay(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getFullYear()];
  const p2 = (n: number): string => n.toString().padStart(2, '0');
  return `${DAYS[day]} ${MONTHS[mon]} ${date.toString().padStart(2, ' ')} ${p2(h)}:${p2(m)}:${p2(s)} ${y}`;
}

/** One record as printed: `[    2.849511] text` (several lines joined by '\n' for multi-line records). */
export function formatLogLine(rec: LogRecord, opts: FormatOptions = {}): string {
  return formatLogLines(rec, opts).join('\n');
}

/** One record as its printed lines. */
export function formatLogLines(rec: LogRecord, opts: FormatOptions = {}): string[] {
  const lines = rec.text.split('\n');
  if (opts.noTime) return lines;
  const prefix = opts.humanTime
    ? `[${formatWallClock(opts.humanTime.bootTime + Number(rec.tsNsec / 1_000_000_000n), opts.humanTime.utc ?? true)}] `
    : `${formatTimestamp(rec.tsNsec)} `;
  const style = opts.continuation ?? 'kernel';
  const cont = style === 'kernel' ? prefix : style === 'crash' ? ' '.repeat(prefix.length) : '';
  return lines.map((l, i) => (i === 0 ? prefix : cont) + l);
}

/** The whole log as printed lines. */
export function formatLog(records: readonly LogRecord[], opts: FormatOptions = {}): string[] {
  return records.flatMap((r) => formatLogLines(r, opts));
}
