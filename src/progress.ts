/**
 * Notices about slow one-time work (indexing a vmlinux's DWARF takes seconds once per kernel
 * build). The library never prints: it reports here, and the CLI decides whether a person sees
 * it (stderr on a terminal). Without a reporter, notices go nowhere.
 */
export type ProgressReporter = (message: string) => void;

let reporter: ProgressReporter | null = null;

export function setProgressReporter(fn: ProgressReporter | null): void {
  reporter = fn;
}

export function reportProgress(message: string): void {
  reporter?.(message);
}
