/**
 * Per-CPU tables on machines with hundreds of CPUs: consecutive CPUs whose rows say the same
 * apart from the CPU number (offline CPUs, idle ones alike) share one row whose CPU cell is the
 * range ("32-63"), so a 512-CPU table stays readable. The CPU is the first cell of each row.
 */
import type { Cell } from './sink.js';

export function groupAlike(rows: readonly Cell[][], cpus: readonly number[]): Cell[][] {
  const out: Cell[][] = [];
  const key = (r: readonly Cell[]): string => JSON.stringify(r.slice(1), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  for (let i = 0; i < rows.length;) {
    const k = key(rows[i]);
    let j = i;
    while (j + 1 < rows.length && cpus[j + 1] === cpus[j] + 1 && key(rows[j + 1]) === k) j++;
    out.push(i === j ? [...rows[i]] : [`${cpus[i]}-${cpus[j]}`, ...rows[i].slice(1)]);
    i = j + 1;
  }
  return out;
}
