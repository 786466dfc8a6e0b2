/**
 * Colour for people, never for programs: chalk is switched off when NO_COLOR is set, when the
 * stream is not a TTY, or when the caller asks for plain output.
 */
import { Chalk, type ChalkInstance } from 'chalk';

export function makeChalk(stream: NodeJS.WriteStream | { isTTY?: boolean } = process.stdout, forcePlain = false): ChalkInstance {
  const noColor = forcePlain || 'NO_COLOR' in process.env || !stream.isTTY;
  return new Chalk({ level: noColor ? 0 : 1 });
}

/** 0xffff... form used for every address we print */
export function hex(v: bigint | number, width = 0): string {
  return '0x' + v.toString(16).padStart(width, '0');
}

/** bytes → "512 MiB" */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** seconds → "1 day, 02:03:04" (crash's uptime style) */
export function humanDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${d ? `${d} day${d > 1 ? 's' : ''}, ` : ''}${hh}:${mm}:${ss}`;
}

/** load averages as /proc/loadavg and crash print them: "1.00, 0.21, 0.07" */
export function loadAverageText(values: readonly number[]): string {
  return values.map((v) => v.toFixed(2)).join(', ');
}

/** crash's memory size text: "511.5 MB", "2 GB" (binary units, one decimal, ".0" dropped) */
export function memorySizeText(bytes: number): string {
  const units: [number, string][] = [[2 ** 40, 'TB'], [2 ** 30, 'GB'], [2 ** 20, 'MB'], [2 ** 10, 'KB']];
  for (const [u, name] of units) {
    if (bytes >= u) return `${(bytes / u).toFixed(1).replace(/\.0$/, '')} ${name}`;
  }
  return `${bytes} bytes`;
}

/** a long text cut to `max` characters with an ellipsis; null stays null */
export function shorten(s: string | null | undefined, max: number): string | null {
  if (!s) return null;
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
