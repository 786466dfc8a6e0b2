/** Signatures of a set of dumps, computed in the fleet's workers (the `signature` command on each). */
import type { FoundDump } from './discover.js';
import type { FleetRunContext } from './jobs.js';
import type { CrashSignature } from './signature.js';
import type { TriageInput } from './triage.js';

export interface SignatureOptionsArgv { depth?: string; skipFrames?: string }

export interface Collected {
  inputs: TriageInput[];
  failed: { path: string; error: string }[];
  /** dumps found as kdump's vmcore-incomplete */
  incomplete: string[];
}

export async function collectSignatures<O extends SignatureOptionsArgv>(ctx: FleetRunContext<O>, dumps?: readonly FoundDump[]): Promise<Collected> {
  const argv = [
    ...(ctx.options.depth ? ['--depth', String(ctx.options.depth)] : []),
    ...(ctx.options.skipFrames ? ['--skip-frames', String(ctx.options.skipFrames)] : []),
  ];
  const set = dumps ?? ctx.discovery.dumps;
  const outcomes = await ctx.run({ kind: 'command', command: 'signature', argv, want: { json: true, text: false, row: false }, color: false }, set);
  const inputs: TriageInput[] = [];
  const failed: Collected['failed'] = [];
  for (const o of outcomes) {
    if (o.ok && o.json) inputs.push({ path: o.path, signature: JSON.parse(o.json) as CrashSignature });
    else failed.push({ path: o.path, error: o.error ?? 'failed' });
  }
  return { inputs, failed, incomplete: set.filter((d) => d.incomplete).map((d) => d.path) };
}

/** the options triage, similar and signature share */
export const SIGNATURE_OPTIONS = [
  { flags: '--depth <n>', description: 'relevant frames to keep in each signature', default: '5' },
  { flags: '--skip-frames <file>', description: 'skip list of generic frames (regex per line; default data/skip-frames.txt or VAAT_SKIP_FRAMES)' },
];
