/**
 * Where the real vmcores and their truth files live, for every test. Fixtures are read-only:
 * tests that need a damaged dump copy one into a temporary directory first.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, it } from 'vitest';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const fixturesDir = process.env.VAAT_FIXTURES ?? resolve(projectRoot, '../shared/fixtures');

if (!existsSync(join(fixturesDir, 'README.md'))) {
  throw new Error(`vmcore fixtures not found at ${fixturesDir}: the tests need ../shared/fixtures (or VAAT_FIXTURES)`);
}

/** One kernel build the fixtures were made with: `kernel-<release>/` (System.map, config, BTF, modules). */
export interface KernelFixture {
  release: string;
  arch: 'x86_64' | 'arm64';
  /** `../shared/fixtures/kernel-<release>` */
  dir: string;
  systemMap: string;
  /** the scenario modules (`vaat_*.ko`, with DWARF) */
  modulesDir: string;
}

function kernelFixture(release: string): KernelFixture {
  const dir = join(fixturesDir, `kernel-${release}`);
  const config = readFileSync(join(dir, `config-${release}`), 'utf8');
  const arch = /^CONFIG_ARM64=y$/m.test(config) ? 'arm64' : /^CONFIG_X86_64=y$/m.test(config) ? 'x86_64' : null;
  if (!arch) throw new Error(`${dir}: config names neither x86_64 nor arm64`);
  return { release, arch, dir, systemMap: join(dir, `System.map-${release}`), modulesDir: join(dir, 'modules') };
}

/** Architectures whose fixture sets every per-fixture test runs on: all the fixtures have. */
export const testedArches: ReadonlySet<string> = new Set(['x86_64', 'arm64']);

export interface DumpFixture {
  scenario: string;
  /**
   * What happened, the same across kernel sets: `k510-cgroup-mutex-hung` and `arm64-cgroup-mutex-hung`
   * are `cgroup-mutex-hung` on another kernel (the set's prefix dropped).
   */
  kind: string;
  kernel: KernelFixture;
  /** file name inside the scenario directory */
  name: string;
  path: string;
  /** the file the scenario's truth.json was made from */
  primary: boolean;
}

const kernels = new Map<string, KernelFixture>();
function kernelOfScenario(scenario: string): KernelFixture {
  const release = readFileSync(join(fixturesDir, scenario, 'MANIFEST.txt'), 'utf8').match(/^kernel: (\S+)/m)?.[1];
  if (!release) throw new Error(`${scenario}/MANIFEST.txt names no kernel`);
  if (!kernels.has(release)) kernels.set(release, kernelFixture(release));
  return kernels.get(release)!;
}

/** the other sets' scenario names start with their set: k510-, arm64- */
const SET_PREFIX = /^(k\d+|arm64)-/;

/** every scenario directory (those with a truth/ folder), of every set: the developer set first */
export const allScenarios: string[] = readdirSync(fixturesDir)
  .filter((d) => existsSync(join(fixturesDir, d, 'truth', 'truth.json')))
  .sort((a, b) => Number(SET_PREFIX.test(a)) - Number(SET_PREFIX.test(b)) || a.localeCompare(b));

/** every dump file of every scenario of every set, tested or not */
export const allDumps: DumpFixture[] = allScenarios.flatMap((scenario) => {
  const dir = join(fixturesDir, scenario);
  const primaryLine = readFileSync(join(dir, 'truth', 'PRIMARY.txt'), 'utf8').match(/^primary: (\S+)/m);
  const kernel = kernelOfScenario(scenario);
  const kind = scenario.replace(SET_PREFIX, '');
  return readdirSync(dir)
    .filter((f) => f.startsWith('vmcore'))
    .sort()
    .map((name) => ({ scenario, kind, kernel, name, path: join(dir, name), primary: primaryLine?.[1] === name }));
});

/** every dump file the per-fixture tests run on: the sets of the tested architectures */
export const dumps: DumpFixture[] = allDumps.filter((d) => testedArches.has(d.kernel.arch));

/** the tested scenario directories */
export const scenarios: string[] = [...new Set(dumps.map((d) => d.scenario))];

/** every tested dump of one kind of scenario, one per kernel set and file: `dumpsOf('cgroup-mutex-hung')` */
export function dumpsOf(kind: string, opts: { primary?: boolean } = {}): DumpFixture[] {
  return dumps.filter((d) => d.kind === kind && (!opts.primary || d.primary));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

const cache = new Map<string, Json>();
/** a scenario's truth file, e.g. truth(s, 'truth.json'), truth(s, 'extra.json') */
export function truth(scenario: string, file = 'truth.json'): Json {
  const p = join(fixturesDir, scenario, 'truth', file);
  if (!cache.has(p)) cache.set(p, JSON.parse(readFileSync(p, 'utf8')));
  return cache.get(p);
}

/**
 * The scenario's main drgn truth: truth.json, unless drgn 0.0.22 could not open the primary dump
 * (qemu-dump: its truth.json holds only errors) — then drgn 0.0.33's, which the README names the
 * better reference anyway.
 */
export function primaryTruth(scenario: string): Json {
  const t = truth(scenario);
  return t.uname ? t : drgnTruth(scenario);
}

/**
 * The newest drgn's truth of a scenario: truth.json or a `truth-drgn-<version>.json` beside it,
 * whichever drgn is newer (0.0.33 for the 6.1 set, 0.2.0 for the 5.10 and arm64 sets). Newer drgn
 * unwinds some stacks older ones cannot; the README names it the better reference for stacks.
 */
export function drgnTruth(scenario: string): Json {
  const files = readdirSync(join(fixturesDir, scenario, 'truth')).filter((f) => f === 'truth.json' || /^truth-drgn-.*\.json$/.test(f));
  const version = (f: string): number[] => String(truth(scenario, f).drgn_version ?? '0').split(/[.+]/).slice(0, 3).map((x) => Number.parseInt(x, 10) || 0);
  const newer = (a: number[], b: number[]): boolean => { for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i]; return false; };
  let best = 'truth.json';
  for (const f of files) if (newer(version(f), version(best))) best = f;
  return truth(scenario, best);
}

/** the scenario's MANIFEST.txt */
export function manifest(scenario: string): string {
  return readFileSync(join(fixturesDir, scenario, 'MANIFEST.txt'), 'utf8');
}

/** the kernel of the developer set (Debian 12's 6.1 x86_64), which single-kernel tests use */
export const devKernel: KernelFixture = kernelOfScenario('sysrq-basic');
export const kernelDir = devKernel.dir;

/** the kernel sets the tested dumps come from */
export const testedKernels: KernelFixture[] = [...new Set(dumps.map((d) => d.kernel))];

/**
 * The taint text the kernel itself last printed ("Tainted: G           OE    ", one letter or space
 * per taint flag the kernel knows: 18 on 5.10, 19 since v5.19), from drgn's dmesg tail; null when
 * no line there shows it.
 */
export function printedTaint(scenario: string): string | null {
  const t = primaryTruth(scenario);
  const release = t.uname.release as string;
  const lines = (t.dmesg_tail as string[]).filter((l) => l.includes('Tainted: ') && l.includes(` ${release}`));
  const last = lines.at(-1);
  if (!last) return null;
  const from = last.indexOf('Tainted: ');
  return last.slice(from, last.indexOf(` ${release}`, from));
}

/**
 * The taint text the dump's tainted_mask gives: what the kernel last printed, plus TAINT_DIE ('D',
 * bit 7) when the panic is oops_end()'s/die()'s "Fatal exception": that panic comes after
 * add_taint(TAINT_DIE), which follows the oops report's own "Tainted:" line. (With kdump loaded the
 * oops enters crash_kexec() before add_taint(), and no "Fatal exception" panic is printed.)
 */
export function taintAtCrash(scenario: string, printed: string | null = printedTaint(scenario)): string | null {
  if (printed === null || !/Fatal exception/.test(primaryTruth(scenario).panic?.message ?? '')) return printed;
  const at = 'Tainted: '.length + 7;
  return printed.slice(0, at) + 'D' + printed.slice(at + 1);
}

/** crash's `sys` DATE of a scenario (truth/crash/sys.txt) as Unix seconds; null where crash did not run */
export function crashSysDate(scenario: string): number | null {
  const p = join(fixturesDir, scenario, 'truth', 'crash', 'sys.txt');
  if (!existsSync(p)) return null;
  const m = /^\s*DATE: \w{3} (\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) UTC (\d{4})$/m.exec(readFileSync(p, 'utf8'));
  if (!m) return null;
  const month = 'JanFebMarAprMayJunJulAugSepOctNovDec'.indexOf(m[1]) / 3;
  return Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
}

/**
 * '' when crash's output `file` is among the scenario's truth (truth/crash/), else the reason a
 * test comparing with it is skipped (the host's crash is built for x86_64 only: it reads no arm64 dump)
 */
export function crashTruthNote(scenario: string, file: string): string {
  return existsSync(join(fixturesDir, scenario, 'truth', 'crash', file)) ? '' : ` (SKIPPED: no crash truth for this dump: truth/crash/${file} absent, crash could not read it)`;
}

/** when fixture-gen wrote the scenario's MANIFEST, after the capture (its "generated <ISO time>"), Unix seconds */
export function manifestGenerated(scenario: string): number {
  const m = /generated (\S+Z) by/.exec(manifest(scenario));
  if (!m) throw new Error(`${scenario}: MANIFEST has no generation time`);
  return Date.parse(m[1]) / 1000;
}

/**
 * drgn_truth.py's oops_lines are a grep of the log for /BUG: |Oops|soft lockup|blocked for more
 * than/, which also takes panic()'s own "Kernel panic - not syncing: Oops: ..." lines and misses
 * fault-report openers without those words (arm64's "Unable to handle kernel ..."). Ours are the
 * first lines of fault reports: compared, each side keeps what both definitions cover.
 */
export function comparableOopsLines(ours: readonly string[], truthLines: readonly string[]): { ours: string[]; truth: string[] } {
  const grep = /BUG: |Oops|soft lockup|blocked for more than/;
  const panicLine = /Kernel panic - not syncing/;
  return { ours: ours.filter((l) => grep.test(l)), truth: truthLines.filter((l) => !panicLine.test(l)) };
}

/** where Debian's `linux-image-<release>-dbg` puts the kernel's DWARF vmlinux (scripts/setup.sh installs the tested ones) */
export function debugVmlinux(k: KernelFixture): string {
  return `/usr/lib/debug/boot/vmlinux-${k.release}`;
}

/**
 * What a test run types this kernel's dumps from: 'btf' when told so (VAAT_VMLINUX=none, the first
 * pass of scripts/test.sh), 'dwarf' when its -dbg vmlinux is installed, else 'missing'.
 */
export function typesMode(k: KernelFixture): 'btf' | 'dwarf' | 'missing' {
  const env = process.env.VAAT_VMLINUX;
  if (env === 'none') return 'btf';
  if (env) return 'dwarf';
  return existsSync(debugVmlinux(k)) ? 'dwarf' : 'missing';
}

/** ' (…)' naming why a DWARF-only test does not run on this kernel, '' when it does */
export function dwarfOnlyNote(k: KernelFixture): string {
  const m = typesMode(k);
  return m === 'dwarf' ? '' : m === 'btf' ? ' (DWARF mode only: VAAT_VMLINUX=none)' : ` (SKIPPED: needs linux-image-${k.release}-dbg: ${debugVmlinux(k)} not installed)`;
}

/**
 * `it`, or, where `run` is false, one that lists each test as skipped with `reason` in its name
 * (for a describe block whose tests all need something a dump lacks).
 */
export function itWhen(run: boolean, reason: string): (name: string, fn: () => void) => void {
  return run ? it : (name, fn) => it.skip(`${name} (SKIPPED: ${reason})`, fn);
}

/**
 * A fresh XDG_CACHE_HOME for the cache writes of a test file (or describe block): set before its
 * tests, then the previous one restored and the directory removed.
 */
export function useTempCacheHome(prefix: string): void {
  let saved: string | undefined;
  let dir = '';
  beforeAll(() => {
    saved = process.env.XDG_CACHE_HOME;
    dir = mkdtempSync(join(tmpdir(), prefix));
    process.env.XDG_CACHE_HOME = dir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    rmSync(dir, { recursive: true, force: true });
  });
}
