/**
 * Where the CLI's text goes: straight to stdout, or — on a terminal, once it is longer than the
 * screen — through `$PAGER` (less -FRX by default), fed as it is rendered. Nothing waits for the
 * whole text: the first screenful is held back only until it is clear whether it fits.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface TextTarget {
  write(chunk: string): void;
  /** all written: resolves when the text is out (the pager quit) */
  end(): Promise<void>;
}

/** stdout as a target: writes to a pipe or file are synchronous in Node, so nothing queues up */
export function stdoutTarget(): TextTarget {
  return { write: (s) => { process.stdout.write(s); }, end: async () => {} };
}

/** the terminal: stdout while the text fits on the screen, the pager once it does not (PAGER=cat: never) */
export function terminalTarget(): TextTarget {
  if (!process.stdout.isTTY) return stdoutTarget();
  const rows = process.stdout.rows ?? 24;
  let held: string[] = [];
  let lines = 0;
  let pager: ChildProcess | null = null;
  let closed: Promise<void> | null = null;
  let gone = false; // the user quit the pager: the rest is dropped
  const start = (): void => {
    const cmd = process.env.PAGER || 'less';
    // less: colours through (-R), exit at once when it fits after all (-F), leave the text on screen (-X)
    const env = { ...process.env, LESS: process.env.LESS ?? 'FRX' };
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['pipe', 'inherit', 'inherit'], env });
    pager = child;
    closed = new Promise((resolve) => {
      child.on('close', () => { gone = true; resolve(); });
      child.on('error', () => { gone = true; process.stdout.write(held.join('')); resolve(); });
    });
    child.stdin!.on('error', () => { gone = true; });
    for (const h of held) child.stdin!.write(h);
    held = [];
  };
  return {
    write(chunk) {
      if (gone) return;
      if (pager) { pager.stdin!.write(chunk); return; }
      held.push(chunk);
      for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) lines++;
      if (lines >= rows - 1) start();
    },
    async end() {
      if (!pager) { process.stdout.write(held.join('')); return; }
      pager.stdin!.end();
      await closed;
    },
  };
}
