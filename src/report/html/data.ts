/**
 * What the HTML pages are made from: the JSON each analysis of a report directory already holds
 * (src/fleet/report.ts writes them), read back as plain data. The page renderer takes these
 * objects and nothing else, so a caller that keeps the same JSON elsewhere (a database, the
 * fleet service) renders the same pages. Every field is read defensively: an analysis that failed
 * or a field an older report lacks leaves its section saying so, never breaks the page.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportSummary } from '../../fleet/report.js';
import type { CrashSignature } from '../../fleet/signature.js';
import type { Bucket, RankedMatch } from '../../fleet/triage.js';

/* The JSON views below name only the fields the pages read; the commands' own result types hold bigints
   where the JSON holds numbers or strings, so they are not reused here. */

export interface FrameJson {
  index: number; pc: string; function: string | null; offset: string | number | null; module: string | null;
  text: string; method?: string; reliable?: boolean; boundary?: string | null; user?: boolean; inlined?: boolean;
}
export interface TraceJson { pid: number; comm: string; task: string; cpu: number; startedFrom?: string; stoppedBecause?: string; frames: FrameJson[] }
export interface BtJson { traces: TraceJson[] }

export interface SysJson {
  dumpfile?: string; cpus?: number; cpusOnline?: number; dateText?: string | null; uptime?: { text: string } | null;
  loadAverage?: { text: string } | null; tasks?: { total: number }; nodename?: string | null; release?: string | null;
  version?: string | null; machine?: string | null; memory?: { text: string } | null; taint?: string; taintLetters?: string;
  panic?: { message: string | null; source: string | null; text: string | null; cpu: { cpu: number; source: string } | null };
  pid?: number | null; command?: string | null; task?: string | null; cpu?: number | null; state?: string | null;
  kernel?: { symbols: string; types: string }; dumpLevel?: number | null; warnings?: string[];
}

export interface StackGroupJson { count: number; state: string; functions: string[]; pids: number[]; comms: string[]; stoppedBecause?: string }
export interface StacksJson { tasks: number; groups: StackGroupJson[] }

export interface RqTaskJson { task: string; pid: number; comm: string; state: string; prio: number; cgroup?: string; lastArrival?: number; sumExecRuntime?: number }
export interface SchedEntityJson {
  se: string; depth: number; running: boolean; vruntime: number | string; minVruntimeLag: number | string | null; weight: number | string;
  cgroup: string | null; type: 'task' | 'group'; pid?: number; comm?: string; state?: string; prio?: number; throttled?: boolean;
  eevdf?: { lag?: number | string | null; deadline?: number | string | null } | null;
}
export interface RunqCpuJson {
  cpu: number; online: boolean; nrRunning: number; curr: RqTaskJson | null; idle: RqTaskJson | null; currRunTime: number | string | null;
  stop?: { task: RqTaskJson | null; queued: boolean } | null;
  cfs?: { nrRunning: number; hNrRunning: number; throttled: boolean; minVruntime: number | string; order?: string; entities: SchedEntityJson[]; queuedTasks: SchedEntityJson[] } | null;
  rt?: { rtNrRunning: number; rtThrottled: boolean; entities: { pid?: number; comm?: string; prio?: number }[] } | null;
  dl?: { dlNrRunning: number; entities: { pid?: number; comm?: string }[] } | null;
  groups?: RqGroupJson | null;
}
export interface RqGroupJson {
  cgroup: string | null; taskGroup: string;
  cfsRq: { nrRunning: number; hNrRunning: number; throttled: boolean; throttleCount?: number; runtimeRemaining?: number | string } | null;
  bandwidth?: { period: number | string | null; quota: number | string | null; nrPeriods?: number; nrThrottled?: number; throttledTime?: number | string } | null;
  children?: RqGroupJson[];
}
export interface RunqJson { newestClock?: number | string; cpus: RunqCpuJson[] }

export interface PsTaskJson { pid: number; tgid: number; ppid: number; cpu: number; task: string; state: string; prio: number; nice?: number; policy?: number; comm: string; cgroup?: string | null; kthread?: boolean; idle?: boolean; active?: boolean; panic?: boolean }
export interface PsJson { count: number; states: Record<string, number>; tasks: PsTaskJson[] }

export interface WaitJson {
  pid: number; comm: string; state: string; kind: string; lockAddress: string | null; lockSymbol: string | null; lockKind: string | null;
  ownerPid: number | null; ownerComm: string | null; ownerState: string | null; waitAddress: string | null; note: string;
  blockedIn?: string[]; waited?: { seconds: number | null } | null;
}
export interface ChainJson { text: string; pids: number[]; cycle: boolean; end: string }
export interface LockinfoBlockedJson { mode: 'blocked'; tasks: WaitJson[]; chains: ChainJson[]; cycles: ChainJson[] }

export interface CgroupNodeJson {
  path: string; id?: number; level?: number; nrTasks?: number | null; online?: boolean; controllers?: string[]; subtreeControl?: string[];
  cpuset?: { cpus: string | null; effectiveCpus: string | null; mems: string | null; effectiveMems: string | null; partition?: string | null } | null;
  cpu?: { weight: number | null; shares?: number | null; idle?: boolean; bandwidth?: { quotaUs: number | null; periodUs: number | null; nrThrottled?: number; throttledTimeNs?: number | string } | null } | null;
  memory?: { currentBytes: number | null; maxBytes: number | 'max' | null; highPages?: number | 'max'; peakPages?: number | null; pageSize?: number; events?: Record<string, number> } | null;
  pids?: { current: number | null; max: number | 'max' | null; peak?: number | null } | null;
  children?: CgroupNodeJson[];
}
export interface CgroupinfoJson { hierarchies: { hierarchyId: number; version: number; name: string; controllers?: string[]; root: CgroupNodeJson }[] }

export interface CpuTopoJson {
  cpu: number; online: boolean; packageId: number | null; coreId: number | null; thread?: number | null; dieId?: number | null; numaNode?: number | null;
  doing?: { state: string; pid?: number; comm?: string } | null;
}
export interface TlbCpuJson {
  cpu: number; loadedMm: string | null; isInitMm?: boolean; loadedMmAsid: number | null; isLazy: boolean | null; mmCtxId?: number | string | null; mmTlbGen?: number | string | null;
  ctxs?: { asid: number; ctxId: number | string; tlbGen: number | string }[]; owner?: { pid: number; comm: string } | null; flags?: string[];
  slotMatchesMm?: boolean | null; slotTlbGenCurrent?: boolean | null;
}
export interface CpuinfoJson {
  topology?: { vendor?: string | null; model?: string | null; cpus: CpuTopoJson[]; matrix?: { package: number; cores: { core: number; cpus: number[] }[] }[]; smtActive?: boolean; panicCpu?: number | null };
  tlb?: { nrDynAsids: number; pcid: boolean | null; cpus: TlbCpuJson[] };
}

export interface LogRecordJson { seq: number; time: number; level: number; caller?: string | null; text: string }
export interface LogJson { total: number; records: LogRecordJson[]; lines?: string[] }

export interface ModJson { count: number; modules: { name: string; base?: string; size: number; state?: string; taints?: string; refcount?: number }[] }

/** one dump's report, as the page needs it */
export interface DumpPageData {
  summary: ReportSummary;
  sys: SysJson | null;
  signature: CrashSignature | null;
  bt: BtJson | null;
  stacks: StacksJson | null;
  runq: RunqJson | null;
  runqGroups: RunqJson | null;
  ps: PsJson | null;
  locks: LockinfoBlockedJson | null;
  cgroups: CgroupinfoJson | null;
  cpus: CpuinfoJson | null;
  log: LogJson | null;
  mod: ModJson | null;
  /** other dumps of the same report set ranked by similarity, with their report directories */
  similar: (RankedMatch & { dir: string | null })[] | null;
  /** the triage bucket this dump is in, when the page is part of a fleet site */
  bucket: { id: number; title: string; size: number } | null;
}

/** the analyses' files, as written by src/fleet/report.ts */
const FILES = {
  sys: 'sys', signature: 'signature', bt: 'bt-a', stacks: 'stacks', runq: 'runq', runqGroups: 'runq-g',
  ps: 'ps', locks: 'lockinfo-blocked', cgroups: 'cgroupinfo', cpus: 'cpuinfo', log: 'log', mod: 'mod',
} as const;

function readJson(file: string): unknown {
  if (!existsSync(file)) return null;
  try { return JSON.parse(readFileSync(file, 'utf8')); } catch { return null; }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** read one report directory; analyses that failed or are missing are null */
export function loadDumpPageData(reportDir: string, summary: ReportSummary): DumpPageData {
  return dumpPageData(summary, (f) => readJson(join(reportDir, `${f}.json`)));
}

/**
 * The page's data from a report's summary and its analyses' JSON, wherever they are kept: `json(file)`
 * gives the parsed `FILE.json` (null when absent). Analyses that failed or are missing are null.
 */
export function dumpPageData(summary: ReportSummary, json: (file: string) => unknown): DumpPageData {
  const get = (f: string): unknown => {
    const rec = summary.analyses.find((a) => a.file === f);
    if (rec && !rec.ok) return null;
    const v = json(f);
    return isObject(v) ? v : null;
  };
  const locks = get(FILES.locks);
  return {
    summary,
    sys: get(FILES.sys) as SysJson | null,
    signature: get(FILES.signature) as CrashSignature | null,
    bt: get(FILES.bt) as BtJson | null,
    stacks: get(FILES.stacks) as StacksJson | null,
    runq: get(FILES.runq) as RunqJson | null,
    runqGroups: get(FILES.runqGroups) as RunqJson | null,
    ps: get(FILES.ps) as PsJson | null,
    locks: isObject(locks) && locks.mode === 'blocked' ? locks as unknown as LockinfoBlockedJson : null,
    cgroups: get(FILES.cgroups) as CgroupinfoJson | null,
    cpus: get(FILES.cpus) as CpuinfoJson | null,
    log: get(FILES.log) as LogJson | null,
    mod: get(FILES.mod) as ModJson | null,
    similar: null,
    bucket: null,
  };
}

/** the fleet page: every report in the output directory, the triage buckets over them */
export interface FleetPageData {
  generatedAt: string;
  threshold: number;
  dumps: { dir: string; path: string; title: string | null; openError: string | null; ok: number; failed: number; host: string | null; release: string | null; crashTime: string | null; bucket: number | null }[];
  buckets: (Bucket & { dirs: (string | null)[] })[];
}
