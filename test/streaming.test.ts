/**
 * Output that streams (issue 13): `--jsonl` prints a command's long list one JSON object a line,
 * each equal to that element of `--json`; `--json` written piece by piece is the same text as the
 * one-string serializer; text rendered to a write target is the same text as text().
 */
import { describe, expect, it } from 'vitest';
import { openVmcore } from '../src/vmcore.js';
import { builtinCommand } from '../commands/index.js';
import { Output, toJson } from '../src/output/sink.js';
import { writeJson, writeJsonLines } from '../src/output/json-stream.js';
import { dumpsOf, truth, type Json } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';

const d = dumpsOf('cgroup-mutex-hung', { primary: true })[0];
const LISTS: [string[], string][] = [[['ps'], 'tasks'], [['tasktable', '--fields', 'pid,comm,state,se.vruntime'], 'rows'], [['stacks'], 'groups'], [['log', '--tail', '50'], 'records']];

describe('--jsonl', () => {
  for (const [argv, key] of LISTS) {
    it(`${argv[0]}: one line per element of --json's ${key}, equal to it`, async () => {
      const whole = await vaatJson([argv[0], d.path, ...argv.slice(1)]);
      const r = await vaat([argv[0], d.path, ...argv.slice(1), '--jsonl']);
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines.pop()).toBe(''); // ends with a newline
      expect(lines.length).toBe(whole[key].length);
      expect(lines.map((l) => JSON.parse(l))).toEqual(whole[key]);
    });
  }
  it('ps --jsonl lists every task the truth has', async () => {
    const r = await vaat(['ps', d.path, '--jsonl']);
    const pids = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Json).filter((t) => !t.idle).map((t) => t.pid).sort((a: number, b: number) => a - b);
    expect(pids).toEqual((truth(d.scenario).tasks as Json[]).map((t) => t.pid).sort((a: number, b: number) => a - b));
  });
  it('a command without a long list refuses it (exit 2)', async () => {
    const r = await vaat(['sys', d.path, '--jsonl']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/sys has no --jsonl/);
  });
});

describe('streamed --json and text', () => {
  const vm = openVmcore(d.path);
  for (const [argv] of LISTS) {
    it(`${argv[0]}: the same text piece by piece as in one string`, async () => {
      const spec = builtinCommand(argv[0]);
      const options = argv[0] === 'tasktable' ? { fields: 'pid,comm,state,se.vruntime' } : argv[0] === 'log' ? { tail: '50' } : {};
      const result = await spec.run({ vm, options, args: [] });
      const chunks: string[] = [];
      writeJson(result, (s) => chunks.push(s));
      expect(chunks.join('')).toBe(toJson(result) + '\n');
      const lines: string[] = [];
      writeJsonLines(result, spec.jsonl!, (s) => lines.push(s));
      expect(lines.join('').trim().split('\n').map((l) => JSON.parse(l))).toEqual(JSON.parse(toJson(result))[spec.jsonl!]);
      const whole = new Output({ plain: true });
      spec.render(result, whole, options);
      const parts: string[] = [];
      const streamed = new Output({ plain: true, write: (s) => parts.push(s) });
      spec.render(result, streamed, options);
      streamed.flush();
      expect(parts.join('')).toBe(whole.text());
      expect(streamed.text()).toBe(''); // nothing held back once flushed
    });
  }
});

describe('long tables', () => {
  it('past the rows whose cells a table keeps between its passes, rows are rendered again: the same columns either way', () => {
    const render = (count: number): string[] => {
      const out = new Output({ plain: true });
      out.table(function* () { for (let i = 0; i < count; i++) yield [i, i % 7 === 0 ? null : `task-${i % 1000}`, `\x1b${i}`]; }, { header: ['N', 'NAME', 'RAW'], alignRight: [0] });
      return out.text().split('\n');
    };
    const short = render(1_000);
    const long = render(50_001); // one row past KEEP_CELLS in src/output/sink.ts
    expect(long).toHaveLength(50_003); // header, rows, and the final newline
    const width = String(50_000).length;
    // every row padded to the widest cell of its column, the dump's control byte escaped, no trailing blanks
    expect(long[1]).toBe(`${'0'.padStart(width)}  -         \\x1b0`);
    expect(long[50_001]).toBe(`${'50000'.padStart(width)}  task-0    \\x1b50000`);
    expect(short[1]).toBe(`${'0'.padStart(3)}  -         \\x1b0`);
    expect(long.every((l) => !/ $/.test(l))).toBe(true);
  });
});
