/**
 * `--script` for every single-dump command: the printed TypeScript program, run on its own
 * against every fixture, prints exactly what the command's `--json` prints. Commands with a
 * hand-written teaching program (p, sym, struct, info, cgroupinfo, cpuinfo, tasktable, lockinfo
 * for a lock) are checked value by value in their own tests; the rest print the command object
 * run from a program (commandScript), checked here. Fleet-wide commands refuse `--script`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumps, projectRoot } from './fixtures.js';
import { runNode, vaat } from './cli.js';

/** the commands whose --script is the command object run from a program, with arguments to try */
const GENERIC: string[][] = [
  ['summary'], ['sys'], ['ps'], ['ps', '--state', 'D'], ['log', '--tail', '30'], ['mod'], ['bt', '-a'], ['stacks'],
  ['runq'], ['runq', '-g'], ['rd', 'init_uts_ns', '-n', '64'], ['signature'],
];

let tmp: string;
// inside the package, so the programs' `import 'vaat'` resolves to this checkout
beforeAll(() => { tmp = mkdtempSync(join(projectRoot, 'dist', 'scripts-test-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** a pid to ask `lockinfo PID` about: the first task in D state, else pid 1 */
async function someBlockedPid(file: string): Promise<string> {
  const r = await vaat(['ps', '--state', 'D', file, '--json']);
  return r.status === 0 ? String(JSON.parse(r.stdout).tasks[0]?.pid ?? 1) : '1';
}

const SPLIT = '@@vaat-test-split@@';

describe.each(dumps.map((d) => [`${d.scenario}/${d.name}`, d] as const))('%s: --script programs print what --json prints', (_, d) => {
  it([...GENERIC.map((a) => a.join(' ')), 'lockinfo PID'].join(', '), { timeout: 600_000 }, async () => {
    const cases = [...GENERIC, ['lockinfo', await someBlockedPid(d.path)]];
    // one session (one open) prints each command's --json and its --script, split by echo
    const s = await vaat(['shell', d.path, '-c', cases.map((a) => `${a.join(' ')} --json; echo ${SPLIT}; ${a.join(' ')} --script; echo ${SPLIT}`).join('; ')]);
    const parts = s.stdout.split(`${SPLIT}\n`);
    expect(parts).toHaveLength(cases.length * 2 + 1);
    const programs = cases.map((argv, i) => {
      const [json, script] = [parts[2 * i], parts[2 * i + 1]];
      expect(script, `${argv.join(' ')} --script`).toMatch(/^import \{ openVmcore, builtinCommand, toJson \} from 'vaat';/);
      const f = join(tmp, `${d.scenario}-${d.name}-${i}.mjs`);
      writeFileSync(f, script);
      return { argv, json, f };
    });
    // each program runs on its own, as a user runs it; two at a time on two cores
    const results: Awaited<ReturnType<typeof runNode>>[] = [];
    for (let i = 0; i < programs.length; i += 2) results.push(...await Promise.all(programs.slice(i, i + 2).map((p) => runNode(p.f))));
    programs.forEach(({ argv, json }, i) => {
      const ran = results[i];
      if (json !== '') {
        expect(ran.stderr, argv.join(' ')).toBe('');
        // (the symbol source line says whether kallsyms came from the cache the first open wrote)
        const uncached = (x: string) => x.replace(/; from cache [^)"]*/g, '');
        expect(uncached(ran.stdout), argv.join(' ')).toBe(uncached(json));
      } else {
        // the command fails on this dump (its line is on the session's stderr): so does the program
        expect(ran.status, argv.join(' ')).not.toBe(0);
        expect(s.stderr).toMatch(/^vaat: /m);
      }
    });
  });
});

describe('--script where there can be none', () => {
  it('fleet-wide runs refuse it with the reason, exit 2', async () => {
    for (const argv of [['report', dumps[0].path], ['sys', '-d', dumps[0].path]]) {
      const r = await vaat([...argv, '--script']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/have no --script form/);
    }
  });
});
