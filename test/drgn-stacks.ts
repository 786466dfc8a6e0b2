/** Reading drgn's backtraces in the truth files the way the stack tests compare them. */

/** user-space addresses end below this */
export const USER_TOP = 0x0000_8000_0000_0000n;

/** a function name without compiler clone suffixes (drgn prints `__mutex_lock`, kallsyms `__mutex_lock.constprop.0`) */
export const baseName = (n: string): string => n.replace(/\.(constprop|isra|part|cold|llvm)(\.\d+)?/g, '');

/** drgn prints frames it has no symbol for as a bare hex address */
export const isHex = (n: string): boolean => /^0x[0-9a-f]+$/i.test(n);

/** drgn's list up to and including its first user-space address (past it drgn reads garbage) */
export function drgnKernelPart(bt: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of bt) {
    out.push(n);
    if (isHex(n) && BigInt(n) < USER_TOP) break;
  }
  return out;
}
