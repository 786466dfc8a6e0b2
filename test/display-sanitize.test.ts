/**
 * Defect 2 of issue #16: strings from the dump (task names, the node name, the log) are shown to
 * people with control characters escaped, as crash shows them (`\t`, `\x1b`): tables never throw
 * on them and nothing reaches the terminal raw. `--json` keeps them exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaat } from './cli.js';
import { hostileNodenameKdump, hostileStringsElf, scratch, type HostileStrings } from './hostile/inputs.js';
import { Output } from '../src/output/sink.js';
import { sanitizeForDisplay } from '../src/output/sanitize.js';

let s: ReturnType<typeof scratch>;
let h: HostileStrings;
beforeAll(async () => { s = scratch('vaat-display-'); h = await hostileStringsElf(s.dir); }, 300_000);
afterAll(() => s.cleanup());

const esc = (x: string): string => x.replace(/\t/g, '\\t').replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x08\x0b-\x1f\x7f]/;

describe('the output layer', () => {
  it('pads table columns to display width: wide characters take two columns, escapes their written length', () => {
    const o = new Output({ plain: true });
    o.table([['東京', 1], ['ab', 22], ['x\ty', 3]], { header: ['NAME', 'N'] });
    const lines = o.text().trimEnd().split('\n');
    // NAME is 4 wide (the longest cell: '東京' 4 columns, 'x\\ty' 4 characters), then 2 spaces
    expect(lines).toEqual(['NAME  N', '東京  1', 'ab    22', 'x\\ty  3']);
  });

  it('escapes control characters in lines, cells, key/values and tree labels; keeps its own colour', () => {
    const o = new Output({ plain: true });
    o.line('a\x1b]0;t\x07b');
    o.table([['x\ty', 1]], { header: ['A', 'B'] });
    o.kv([['K', 'v\x1b[2J']]);
    o.tree({ label: 'r\x07', children: [{ label: 'c\x1b' }] });
    const t = o.text();
    expect(t).not.toMatch(RAW);
    expect(t).toContain('a\\x1b]0;t\\x07b');
    expect(t).toContain('x\\ty');
    expect(t).toContain('v\\x1b[2J');
    expect(t).toContain('c\\x1b');
    const coloured = new Output({ stream: { isTTY: true } });
    if (coloured.c.level > 0) {
      coloured.line(coloured.c.red('ok') + ' \x1b]0;t\x07');
      expect(coloured.text()).toContain('\x1b[31mok\x1b[39m \\x1b]0;t\\x07');
    }
    expect(sanitizeForDisplay('a\nb', { newlines: true })).toBe('a\nb');
    expect(sanitizeForDisplay('a\nb')).toBe('a\\nb');
  });
});

describe('commands on a dump with hostile strings', () => {
  for (const argv of [['ps'], ['runq'], ['tasktable', '--fields', 'pid,comm'], ['bt', '-a'], ['stacks'], ['cgroupinfo', '--tasks'], ['log'], ['sys'], []]) {
    it(`vaat ${argv.join(' ') || '(summary)'}: exit 0, nothing raw, the planted strings shown escaped`, async () => {
      const r = await vaat(argv.length ? [argv[0], h.file, ...argv.slice(1)] : [h.file]);
      expect(r.signal).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(RAW);
      expect(r.stderr).not.toMatch(RAW);
      const shown = [esc(h.osc.comm), esc(h.tab.comm), esc(h.nodename), esc(h.logText)].filter((x) => r.stdout.includes(x));
      expect(shown.length, `none of the planted strings in:\n${r.stdout.slice(0, 2000)}`).toBeGreaterThan(0);
    });
  }
  it('ps and log: every planted string where it belongs', async () => {
    const ps = (await vaat(['ps', h.file])).stdout;
    expect(ps).toContain(esc(h.osc.comm));
    expect(ps).toContain(esc(h.tab.comm));
    expect((await vaat(['log', h.file])).stdout).toContain(esc(h.logText));
    expect((await vaat(['sys', h.file])).stdout).toContain(esc(h.nodename));
  });
  it('vaat info: the node name from the kdump header is shown escaped', async () => {
    const k = hostileNodenameKdump(s.dir);
    const r = await vaat(['info', k.file]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stdout).toContain(esc(k.nodename));
    expect(JSON.parse((await vaat(['info', k.file, '--json'])).stdout).nodename).toBe(k.nodename);
  });
  it('--json keeps the exact bytes', async () => {
    const ps = JSON.parse((await vaat(['ps', h.file, '--json'])).stdout) as unknown;
    const text = JSON.stringify(ps);
    expect(text).toContain(JSON.stringify(h.osc.comm).slice(1, -1));
    expect(text).toContain(JSON.stringify(h.tab.comm).slice(1, -1));
  });
});
