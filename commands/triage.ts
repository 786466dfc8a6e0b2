/**
 * vaat triage -d DIR: bucket many vmcores by crash signature — the same crash written twice,
 * then exact class + guilty frame, then similarity above a threshold — with counts, first/last
 * crash, hosts, kernels, a representative and why members were grouped. --labels scores the
 * bucketing against root causes people assigned (pairwise and B-cubed precision/recall).
 */
import { defineCommand, type VaatCommand } from '../src/plugin.js';
import { crashSignature } from '../src/fleet/signature.js';
import { loadSkipList } from '../src/fleet/skip-frames.js';
import { triage, DEFAULT_THRESHOLD, type Bucket } from '../src/fleet/triage.js';
import { evaluate, evaluationText, loadLabels, type Evaluation } from '../src/fleet/evaluate.js';
import { collectSignatures, SIGNATURE_OPTIONS } from '../src/fleet/collect.js';
import type { FleetCapable } from '../src/fleet/jobs.js';
import { UsageError } from '../src/errors/index.js';

interface TriageOptions { threshold?: string; labels?: string; depth?: string; skipFrames?: string; json?: boolean }

export interface TriageResult {
  threshold: number;
  dumps: number;
  buckets: Bucket[];
  failed: { path: string; error: string }[];
  incomplete: string[];
  evaluation: Evaluation | null;
  /** the bucket id of each analysed dump */
  assignment: Record<string, number>;
}

function threshold(o: TriageOptions): number {
  const t = o.threshold === undefined ? DEFAULT_THRESHOLD : Number(o.threshold);
  if (!(t >= 0 && t <= 1)) throw new UsageError(`--threshold must be between 0 and 1, not '${o.threshold}'`);
  return t;
}

function result(inputs: Parameters<typeof triage>[0], o: TriageOptions, failed: TriageResult['failed'], incomplete: string[], dumps: number): TriageResult {
  const t = threshold(o);
  const buckets = triage(inputs, { threshold: t });
  const assignment: Record<string, number> = {};
  for (const b of buckets) for (const m of b.members) assignment[m.path] = b.id;
  const evaluation = o.labels ? evaluate(new Map(Object.entries(assignment)), loadLabels(o.labels)) : null;
  return { threshold: t, dumps, buckets, failed, incomplete, evaluation, assignment };
}

const command: VaatCommand<TriageOptions, TriageResult> & FleetCapable<TriageOptions, TriageResult> = {
  ...defineCommand<TriageOptions, TriageResult>({
    name: 'triage',
    summary: 'bucket many vmcores (-d DIR) by crash signature: counts, first/last crash, hosts, why grouped',
    args: '[DIR|vmcore]',
    options: [
      { flags: '--threshold <x>', description: `similarity (0..1) at or above which crashes share a bucket (default ${DEFAULT_THRESHOLD})` },
      { flags: '--labels <file>', description: "'path label' lines: score the buckets (pairwise and B-cubed precision/recall)" },
      ...SIGNATURE_OPTIONS,
    ],
    run({ vm, options }) {
      const s = crashSignature(vm, { depth: Number(options.depth ?? 5), skipList: loadSkipList(options.skipFrames) });
      return result([{ path: vm.file, signature: s }], options, [], [], 1);
    },
    render: (r, out) => renderTriage(r, out),
  }),
  fleetOnly: true,
  async fleetRun(ctx) {
    threshold(ctx.options); // a bad threshold fails before any dump is read
    const c = await collectSignatures(ctx);
    return result(c.inputs, ctx.options, c.failed, c.incomplete, ctx.discovery.dumps.length);
  },
  fleetRender: (r, out) => renderTriage(r, out),
};

function renderTriage(r: TriageResult, out: Parameters<VaatCommand['render']>[1]): void {
  const c = out.c;
  const analysed = r.dumps - r.failed.length;
  out.line(c.bold(`${r.dumps} vmcores, ${analysed} analysed, ${r.buckets.length} bucket${r.buckets.length === 1 ? '' : 's'} (threshold ${r.threshold})`));
  out.line();
  const name = (p: string): string => p.split('/').slice(-2).join('/');
  for (const b of r.buckets) {
    const dups = b.files - b.count;
    out.heading(`#${b.id}  ${c.red(b.title)}`);
    out.kv([
      ['CRASHES', `${b.count}${dups ? ` (+${dups} duplicate file${dups > 1 ? 's' : ''} of the same crash)` : ''}`],
      ['FIRST', b.firstCrash],
      ['LAST', b.lastCrash],
      ['HOSTS', b.hosts.join(', ') || null],
      ['KERNELS', b.releases.join(', ') || null],
      ['GUILTY', b.guilty],
      ['REPRESENTATIVE', b.representative],
    ], 4);
    for (const m of b.members) out.line(`      ${name(m.path)}  ${c.dim(m.crashTime ?? '?')}${m.duplicateOf ? c.yellow(`  duplicate of ${name(m.duplicateOf)}`) : ''}`);
    for (const w of b.why) if (w) out.line(c.dim(`    why: ${w}`));
    out.line();
  }
  if (r.failed.length) {
    out.heading(c.red(`${r.failed.length} not analysed`));
    for (const f of r.failed) out.line(`  ${f.path}: ${f.error}`);
    out.line();
  }
  for (const p of r.incomplete) out.line(c.yellow(`  incomplete capture (vmcore-incomplete): ${p}`));
  if (r.evaluation) {
    out.heading('EVALUATION');
    for (const l of evaluationText(r.evaluation)) out.line(`  ${l}`);
  }
}

export default command;
