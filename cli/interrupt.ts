/**
 * Ctrl-C for the whole CLI, installed first thing in main(): a Ctrl-C while commands load or dumps
 * are being discovered is handled like one during the run, never the default kill. Whoever has
 * work to stop (the worker pool) subscribes; with nobody subscribed the process ends at once with
 * status 130. A second Ctrl-C always ends it at once.
 */
import { EXIT_INTERRUPTED } from '../src/errors/index.js';

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
