// Shared bits of the benchmark scripts: fixture discovery, timing, the results table.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table, getBorderCharacters } from 'table';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * How to start the CLI as an installed `vaat` starts: this node, with the flags bin/vaat.js's #!
 * line gives node, then the script (append the command's arguments).
 */
export const vaatArgv = (() => {
  const bin = join(root, 'bin/vaat.js');
  const shebang = readFileSync(bin, 'utf8').split('\n', 1)[0];
  return [...shebang.split(/\s+/).filter((w) => w.startsWith('--')), bin];
})();

/**
 * The environment the benches start every process with: no colour, and without
 * NODE_EXTRA_CA_CERTS unless `--keep-node-ca` is given. This machine's environment names a CA
 * bundle there, which Node parses at every start, before any of vaat runs (~15-40 ms of
 * task-clock here); drgn and crash never read it, and no vaat command measured here makes a TLS
 * connection. Each bench prints which it used (benchEnvNote).
 */
const keepNodeCa = process.argv.includes('--keep-node-ca');
export function benchEnv(extra = {}) {
  const env = { ...process.env, NO_COLOR: '1', ...extra };
  if (!keepNodeCa) delete env.NODE_EXTRA_CA_CERTS;
  return env;
}
export const benchEnvNote = process.env.NODE_EXTRA_CA_CERTS && !keepNodeCa
  ? 'NODE_EXTRA_CA_CERTS unset for the measured processes (Node would parse that CA bundle at every start; --keep-node-ca keeps it)'
  : 'environment as given';

export const fixturesDir = process.env.VAAT_FIXTURES ?? resolve(root, '../shared/fixtures');
if (!existsSync(join(fixturesDir, 'README.md'))) throw new Error(`fixtures not found at ${fixturesDir}`);

/** `--only REGEX` on the command line: the scenarios a script runs on (e.g. `--only '^arm64-'`) */
export const onlyScenarios = (() => {
  const i = process.argv.indexOf('--only');
  return i >= 0 && process.argv[i + 1] ? new RegExp(process.argv[i + 1]) : null;
})();

/** every vmcore file of every scenario (or of those `--only` names), as {scenario, name, path} */
export function fixtureDumps() {
  return readdirSync(fixturesDir)
    .filter((d) => existsSync(join(fixturesDir, d, 'truth')) && (!onlyScenarios || onlyScenarios.test(d)))
    .sort()
    .flatMap((scenario) => readdirSync(join(fixturesDir, scenario))
      .filter((f) => f.startsWith('vmcore'))
      .map((name) => ({ scenario, name, path: join(fixturesDir, scenario, name) })));
}

/** best wall time in ms of `runs` calls of fn (after one warm-up unless warm = false) */
export function best(fn, runs = 3, warm = true) {
  if (warm) fn();
  let t = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

export function printTable(header, rows) {
  process.stdout.write(table([header, ...rows], {
    border: getBorderCharacters('norc'),
    columnDefault: { alignment: 'right' },
    columns: { 0: { alignment: 'left' } },
  }));
}

export const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
