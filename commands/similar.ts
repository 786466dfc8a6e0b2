/** vaat similar VMCORE -d DIR: the dumps under DIR most like VMCORE, with scores and reasons. */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineCommand, type VaatCommand } from '../src/plugin.js';
import { rankSimilar, type RankedMatch } from '../src/fleet/triage.js';
import { canonicalPath } from '../src/fleet/evaluate.js';
import { collectSignatures, SIGNATURE_OPTIONS } from '../src/fleet/collect.js';
import type { FleetCapable } from '../src/fleet/jobs.js';
import type { FoundDump } from '../src/fleet/discover.js';
import { UsageError, VaatError } from '../src/errors/index.js';

interface SimilarOptions { top?: string; depth?: string; skipFrames?: string; json?: boolean }

export interface SimilarResult {
  reference: string;
  title: string | null;
  matches: RankedMatch[];
  failed: { path: string; error: string }[];
}

const command: VaatCommand<SimilarOptions, SimilarResult> & FleetCapable<SimilarOptions, SimilarResult> = {
  ...defineCommand<SimilarOptions, SimilarResult>({
    name: 'similar',
    summary: 'rank the vmcores under -d DIR by similarity to one vmcore, with reasons',
    args: '<vmcore>',
    options: [{ flags: '--top <n>', description: 'show the n best matches', default: '10' }, ...SIGNATURE_OPTIONS],
    run() { throw new UsageError("similar compares with other dumps: vaat similar VMCORE -d DIR"); },
    render: (r, out) => renderSimilar(r, out),
  }),
  async fleetRun(ctx) {
    const refArg = ctx.args[0];
    if (!refArg) throw new UsageError('similar: name the vmcore to compare: vaat similar VMCORE -d DIR');
    const st = statSync(refArg);
    const refPath = resolve(refArg);
    const refCanon = canonicalPath(refPath);
    const inSet = ctx.discovery.dumps.find((d) => canonicalPath(d.path) === refCanon);
    const ref: FoundDump = inSet ?? { path: refPath, format: '?', size: st.size, mtimeMs: st.mtimeMs, incomplete: false, dirHost: null, dirDate: null };
    const c = await collectSignatures(ctx, inSet ? ctx.discovery.dumps : [ref, ...ctx.discovery.dumps]);
    const refSig = c.inputs.find((i) => i.path === ref.path);
    if (!refSig) throw new VaatError(`similar: ${refArg}: ${c.failed.find((f) => f.path === ref.path)?.error ?? 'no signature'}`);
    const top = Number(ctx.options.top ?? 10);
    return { reference: ref.path, title: refSig.signature.class.title, matches: rankSimilar(refSig, c.inputs).slice(0, top), failed: c.failed };
  },
  fleetRender: (r, out) => renderSimilar(r, out),
};

function renderSimilar(r: SimilarResult, out: Parameters<VaatCommand['render']>[1]): void {
  const c = out.c;
  out.line(`${c.bold(r.reference)}: ${c.red(r.title ?? '?')}`);
  out.line();
  out.table(r.matches.map((m) => [m.score.toFixed(3), m.duplicate ? 'same crash' : m.exact ? 'exact' : '', m.path, m.title]),
    { header: ['SCORE', 'MATCH', 'VMCORE', 'SIGNATURE'], alignRight: [0] });
  for (const m of r.matches.slice(0, 5)) {
    out.line(c.dim(`  ${m.path.split('/').slice(-2).join('/')}: ${m.reasons.join('; ')}`));
  }
  for (const f of r.failed) out.line(c.red(`  not analysed: ${f.path}: ${f.error}`));
}

export default command;
