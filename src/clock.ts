/**
 * Milliseconds for "how long did this take" fields, from process.hrtime: the global
 * `performance` loads ten of Node's perf_hooks modules on first use (~3 ms of every start).
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
