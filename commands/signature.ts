/** vaat signature: the layered crash signature of one vmcore (class, frames, state) — what triage compares. */
import { defineCommand } from '../src/plugin.js';
import { crashSignature, type CrashSignature } from '../src/fleet/signature.js';
import { loadSkipList } from '../src/fleet/skip-frames.js';

interface SignatureOptions { depth?: string; skipFrames?: string; json?: boolean }

export default defineCommand<SignatureOptions, CrashSignature>({
  name: 'signature',
  summary: 'crash signature: normalized title, guilty and relevant frames, lock graph and state features',
  options: [
    { flags: '--depth <n>', description: 'relevant frames to keep in the signature', default: '5' },
    { flags: '--skip-frames <file>', description: 'skip list of generic frames (regex per line; default data/skip-frames.txt or VAAT_SKIP_FRAMES)' },
  ],
  run({ vm, options }) {
    return crashSignature(vm, { depth: Number(options.depth ?? 5), skipList: loadSkipList(options.skipFrames) });
  },
  render(s, out) {
    const c = out.c;
    out.heading(c.red(s.class.title));
    out.kv([
      ['CLASS', `${s.class.kind}${s.class.deliberate ? ' (deliberate: the stack names no bug)' : ''}`],
      ['EVIDENCE', s.class.evidence],
      ['GUILTY', s.frames.guilty],
      ['FRAMES', s.frames.top.join(' < ') || null],
      ['FROM', s.frames.source],
      ['CRASH', `${s.identity.crashTimeUtc ?? '?'} on ${s.identity.nodename ?? '?'} (${s.identity.release ?? '?'}), CPU ${s.identity.panicCpu ?? '?'}, ${s.identity.panicComm ?? '?'}(${s.identity.panicPid ?? '?'})`],
      ['BUILD-ID', s.identity.buildId],
    ]);
    out.line();
    out.heading('STATE');
    const g = s.state.lockGraph;
    const locks = !g.available ? `not available: ${g.reason}`
      : g.edges.length === 0 ? 'no task waits on a lock'
        : g.edges.map((e) => `${e.lock} (${e.kind}): ${e.waiters} waiter${e.waiters > 1 ? 's' : ''} [${e.waiterComms.join(', ')}], owner ${e.owner ?? '?'}${e.ownerIn ? ` in ${e.ownerIn}` : ''}`).join('; ')
          + (g.cycles ? `; ${g.cycles} deadlock cycle${g.cycles > 1 ? 's' : ''}` : '');
    out.kv([
      ['LOCKS', locks],
      ['BLOCKED', s.state.blocked ? `${s.state.blocked.count} D-state task${s.state.blocked.count === 1 ? '' : 's'}` : null],
      ['TAINT', s.state.taint === null ? null : s.state.taint || 'none'],
      ['MODULES', s.state.modules ? s.state.modules.join(' ') || 'none' : null],
      ['RUNQUEUES', s.state.runqueue ? s.state.runqueue.join(' ') : null],
      ['MEMORY', s.state.memory ? `${s.state.memory.freePages} of ${s.state.memory.totalPages} pages free (${(s.state.memory.freeRatio * 100).toFixed(1)}%)` : null],
      ['CGROUP', s.state.cgroup],
    ]);
    for (const b of s.state.blocked?.groups ?? []) out.line(c.dim(`    ${b.count} × `) + (b.frames.join(' < ') || '(generic frames only)'));
    for (const e of s.errors) out.line(c.yellow(`  (${e.layer} unavailable: ${e.error})`));
  },
  fleetRow(s) {
    return {
      SIGNATURE: s.class.title,
      FRAMES: s.frames.top.slice(0, 3).join(' < ') || null,
      HOST: s.identity.nodename,
      DATE: s.identity.crashTimeUtc,
      'PANIC TASK': s.identity.panicComm === null ? null : `${s.identity.panicComm}(${s.identity.panicPid}) cpu ${s.identity.panicCpu}`,
    };
  },
});
