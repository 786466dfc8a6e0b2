/**
 * Ctrl-C for the whole CLI, installed first thing in main(): a Ctrl-C while commands load or dumps
 * are being discovered is handled like one during the run, never the default kill. Whoever has
 * work to stop (the worker pool) subscribes; with nobody subscribed the process ends at once with
 * status 130. A second Ctrl-C always ends it at once.
 */
import { EXIT_INTERRUPTED } from '../src/errors/index.js';
import { loadNative } from '../src/dump/native.js';

type Listener = () => void;

let installed = false;
let count = 0;
const listeners = new Set<Listener>();

function onSigint(): void {
  count++;
  if (count > 1 || listeners.size === 0) {
    process.stderr.write('\nvaat: interrupted\n');
    process.exit(EXIT_INTERRUPTED);
  }
  for (const l of [...listeners]) l();
}

export function installInterruptHandler(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSigint);
}

/** call `l` on the first Ctrl-C; returns the unsubscribe */
export function onInterrupt(l: Listener): () => void {
  installInterruptHandler();
  listeners.add(l);
  return () => { listeners.delete(l); };
}

/** one turn of the event loop: a Ctrl-C that arrived during synchronous work reaches onSigint now */
export function signalsDelivered(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Run one command's synchronous stretch (opening the dump, computing the answer) so that a Ctrl-C
 * during it ends the run at once — Node would run no listener until the stretch is over, then
 * print the answer anyway. Nobody else may be listening (a worker pool has work to stop).
 */
export async function computing<T>(fn: () => Promise<T>): Promise<T> {
  await signalsDelivered();
  let native: ReturnType<typeof loadNative> | undefined;
  try { native = loadNative(); } catch { /* no addon: opening the dump will say so */ }
  const arm = listeners.size === 0 ? native?.interruptExits : undefined;
  arm?.(true);
  try {
    return await fn();
  } finally {
    arm?.(false);
    await signalsDelivered();
  }
}
