/**
 * Where the real vmcores and their truth files live, for every test. Fixtures are read-only:
 * tests that need a damaged dump copy one into a temporary directory first.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const fixturesDir = process.env.VAAT_FIXTURES ?? resolve(projectRoot, '../shared/fixtures');

if (!existsSync(join(fixturesDir, 'README.md'))) {
  throw new Error(`vmcore fixtures not found at ${fixturesDir}: the tests need ../shared/fixtures (or VAAT_FIXTURES)`);
}

export interface DumpFixture {
  scenario: string;
  /** file name inside the scenario directory */
  name: string;
  path: string;
  /** the file the scenario's truth.json was made from */
  primary: boolean;
}

/** every scenario directory (those with a truth/ folder), whichever kernel and architecture */
export const allScenarios: string[] = readdirSync(fixturesDir)
  .filter((d) => existsSync(join(fixturesDir, d, 'truth', 'truth.json')))
  .sort();

/**
 * The fixture sets the per-fixture tests run on. The 5.10 (`k510-*`) and arm64 (`arm64-*`) sets
 * were added to ../shared/fixtures after the model was proven on 6.1 x86_64; they join this list as
 * their support lands (issue 11). VAAT_TEST_SETS=all runs every set regardless.
 */
const pendingSets = [/^k510-/, /^arm64-/];
export const scenarios: string[] =
  process.env.VAAT_TEST_SETS === 'all' ? allScenarios : allScenarios.filter((s) => !pendingSets.some((re) => re.test(s)));

/** every dump file of every scenario */
export const dumps: DumpFixture[] = scenarios.flatMap((scenario) => {
  const dir = join(fixturesDir, scenario);
  const primaryLine = readFileSync(join(dir, 'truth', 'PRIMARY.txt'), 'utf8').match(/^primary: (\S+)/m);
  return readdirSync(dir)
    .filter((f) => f.startsWith('vmcore'))
    .sort()
    .map((name) => ({ scenario, name, path: join(dir, name), primary: primaryLine?.[1] === name }));
});

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
  return t.uname ? t : truth(scenario, 'truth-drgn-0.0.33+unknown.json');
}

/** the scenario's MANIFEST.txt */
export function manifest(scenario: string): string {
  return readFileSync(join(fixturesDir, scenario, 'MANIFEST.txt'), 'utf8');
}

/** the kernel files (System.map, BTF, layouts.json, modules) of a scenario's kernel, by its release */
export function kernelDirOf(scenario: string): string {
  const t = primaryTruth(scenario);
  return join(fixturesDir, `kernel-${t.uname.release}`);
}

/** the kernel files of the first scenario: the one kernel every kernel-file test checks */
export const kernelDir = kernelDirOf(scenarios.find((s) => primaryTruth(s).uname) ?? scenarios[0]);
