/**
 * makedumpfile's dump level (-d) is a bit mask of page classes it left out of the dump.
 * The names follow makedumpfile(8).
 */
const CLASSES: [bit: number, name: string][] = [
  [1, 'zero'],
  [2, 'cache'],
  [4, 'cache-private'],
  [8, 'user'],
  [16, 'free'],
];

/** the page classes a dump level excludes, e.g. 31 → all five */
export function excludedPageClasses(dumpLevel: number | null): string[] {
  if (dumpLevel === null) return [];
  return CLASSES.filter(([bit]) => dumpLevel & bit).map(([, name]) => name);
}
