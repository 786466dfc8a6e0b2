/**
 * The contract between a fleet run's parent and its worker processes, and between the fleet
 * runner and commands that work on a whole directory (triage, similar, report). Everything that
 * crosses a process boundary here is plain JSON.
 */
import type { Output } from '../output/sink.js';
import type { VaatCommand } from '../plugin.js';
import type { Discovery, FoundDump } from './discover.js';

export type FleetRow = Record<string, string | number | boolean | null>;

/** run one command on a dump, as `vaat <command> <dump> ...argv` would */
export interface CommandJob {
  kind: 'command';
  command: string;
  /** the command's own arguments and options (no vmcore) */
  argv: string[];
  want: { json: boolean; text: boolean; row: boolean };
  /** colour for text: the parent's stdout decides */
  color: boolean;
}

/** write one dump's report directory (src/fleet/report.ts) */
export interface ReportJob {
  kind: 'report';
  outDir: string;
  /** the directories given: each dump's report directory is named for its path below its root */
  roots: string[];
  /** redo even when the dump is unchanged */
  force: boolean;
}

/** the fleet service's analysis of one dump (src/service/analyse.ts): a report directory, returned whole */
export interface ServiceJob {
  kind: 'service';
  reportsDir: string;
  /** the crash directories: each dump's report directory is named for its path below its root */
  roots: string[];
  /** the report's commands to run (default: all of REPORT_ANALYSES); the signature always runs */
  commands?: string[];
}

export type JobSpec = CommandJob | ReportJob | ServiceJob;

export interface JobOutcome {
  path: string;
  ok: boolean;
  ms: number;
  /** toJson() of the result (command jobs), or of the report summary */
  json?: string;
  text?: string;
  row?: FleetRow;
  /** one line */
  error?: string;
  /** the run was interrupted (Ctrl-C) before this dump finished */
  interrupted?: boolean;
  /** the dump took longer than the per-dump limit (--timeout) and its worker was killed */
  timedOut?: boolean;
}

/** parent → worker */
export type ToWorker = { type: 'job'; id: number; path: string; spec: JobSpec } | { type: 'exit' };
/** worker → parent */
export type FromWorker = { type: 'ready'; pid: number } | ({ type: 'done'; id: number } & JobOutcome);

export interface FleetRunContext<O> {
  /** the dumps found, and the files passed over with why */
  discovery: Discovery;
  /** the directories (or files) given */
  roots: string[];
  options: O;
  args: string[];
  /** run a job on each dump (default: every dump found), in parallel; outcomes in dump order */
  run(spec: JobSpec, dumps?: readonly FoundDump[]): Promise<JobOutcome[]>;
  /** Ctrl-C arrived: return what is finished */
  interrupted(): boolean;
}

/** a command that works on a whole set of dumps at once (`vaat triage -d DIR`) */
export interface FleetCapable<O, FR> {
  /** true: `vaat <name> PATH` treats PATH as the set (a directory or one dump), -d or not */
  fleetOnly?: boolean;
  fleetRun(ctx: FleetRunContext<O>): Promise<FR>;
  fleetRender(result: FR, out: Output, options: O): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = VaatCommand<any, any>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function isFleetCapable(c: AnyCommand): c is AnyCommand & FleetCapable<any, any> {
  return typeof (c as Partial<FleetCapable<unknown, unknown>>).fleetRun === 'function';
}
