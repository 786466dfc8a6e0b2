/**
 * The session at a terminal: the `vaat> ` prompt with line editing (node:readline), history kept
 * per user, tab completion, and output longer than the screen shown through `$PAGER` (less).
 * Without a terminal the same session reads commands from stdin or `-c`, one per line.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { Completer } from './completion.js';
import type { Session, SessionSink } from './session.js';

const HISTORY_SIZE = 1000;

/** `$XDG_STATE_HOME/vaat/history`, else `~/.local/state/vaat/history` */
export function historyFile(env = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'vaat', 'history');
}

function loadHistory(file: string): string[] {
  try {
    // readline wants the newest first
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

function saveHistory(file: string, line: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, line + '\n', { mode: 0o600 });
  } catch { /* a read-only home: the session works without history */ }
}

/** run `text` through the pager on the terminal; resolves when the user quits it */
function page(text: string): Promise<void> {
  const pager = process.env.PAGER || 'less';
  // less: colours through (-R), exit at once when it fits after all (-F), leave the text on screen (-X)
  const env = { ...process.env, LESS: process.env.LESS ?? 'FRX' };
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', pager], { stdio: ['pipe', 'inherit', 'inherit'], env });
    child.on('error', () => { process.stdout.write(text); resolve(); });
    child.on('close', () => resolve());
    child.stdin.on('error', () => {});
    child.stdin.end(text);
  });
}

/** the interactive loop; resolves with 0 when the user quits */
export async function runInteractive(session: Session): Promise<number> {
  const histFile = historyFile();
  const completer = new Completer(session);
  const rl: Interface = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: 'vaat> ',
    terminal: true,
    history: loadHistory(histFile),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    completer: (line: string) => completer.complete(line),
  });
  const sink: SessionSink = {
    color: !!process.stdout.isTTY,
    err: (s) => process.stderr.write(s),
    write: async (text) => {
      const rows = process.stdout.rows ?? 24;
      if (text.split('\n').length - 1 < rows - 1) { process.stdout.write(text); return; }
      rl.pause();
      try { await page(text); } finally { rl.resume(); }
    },
  };
  process.stdout.write(`vaat: ${session.vm.file} — type help for commands, quit or Ctrl-D to leave\n`);
  // Ctrl-C drops the line being typed, as in a shell
  rl.on('SIGINT', () => { process.stdout.write('^C\n'); rl.write(null, { ctrl: true, name: 'u' }); rl.prompt(); });
  rl.prompt();
  // while the user reads the banner and types, load what the commands' first runs need
  let closing = false;
  const warming = session.warmUp(() => closing);
  let quit = false;
  for await (const line of rl) {
    if (line.trim()) saveHistory(histFile, line.trim());
    if ((await session.execLine(line, sink)) === 'quit') { quit = true; break; }
    rl.prompt();
  }
  if (!quit) process.stdout.write('\n'); // Ctrl-D: end the prompt's line, as shells do
  rl.close();
  closing = true;
  await warming; // the dump is closed after this: no step may still be reading it
  return 0;
}

/** commands from a string (`-c`) or non-terminal stdin, one per line; the highest exit status */
export async function runBatch(session: Session, input: string | NodeJS.ReadableStream): Promise<number> {
  const sink: SessionSink = { color: !!process.stdout.isTTY, err: (s) => process.stderr.write(s), write: async (t) => { process.stdout.write(t); } };
  let status = 0;
  const lines = typeof input === 'string' ? input.split('\n') : createInterface({ input, terminal: false });
  for await (const line of lines) {
    const r = await session.execLine(line, sink);
    if (r === 'quit') break;
    status = Math.max(status, r);
  }
  return status;
}
