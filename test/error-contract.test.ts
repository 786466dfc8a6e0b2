/**
 * The error contract (src/errors/): every fault is one line on stderr naming the file and the
 * fault; exit 1 for the input's fault, 2 for usage, 3 only for a bug in vaat (asking for a
 * report, the stack only under --debug). One test per code path, and one per defect of issue #16
 * that the contract fixed (numbered as in the issue), on hostile copies of the fixtures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vaat, type CliResult } from './cli.js';
import { copyFixture, fixturePath, patchText, plainElf, scratch } from './hostile/inputs.js';
import { fixturesDir } from './fixtures.js';
import * as errors from '../src/errors/index.js';
import { describeFailure, escapeControls, exitCodeFor, CorruptDumpError, UsageError, NotFoundError, VaatError } from '../src/errors/index.js';
import { readFileSync } from 'node:fs';
import { projectRoot } from './fixtures.js';
import { ObjectError } from '../src/object/kobject.js';

const KDUMP = 'sysrq-basic/vmcore.kdump-lzo';
const kdump = fixturePath(KDUMP);
let s: ReturnType<typeof scratch>;
// no kallsyms cache: a cached table would hide what a damaged dump does to the scan
const noCache = (): NodeJS.ProcessEnv => ({ ...process.env, NO_COLOR: '1', VAAT_CACHE: 'off' });

beforeAll(() => { s = scratch('vaat-contract-'); });
afterAll(() => s.cleanup());

/** exactly one line on stderr, naming `names`, matching `fault`; the exit status; no signal, no stack */
function expectOneLine(r: CliResult, status: number, names: string | null, fault: RegExp): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(status);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  if (names) expect(lines[0]).toContain(names);
  expect(lines[0]).toMatch(fault);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('the contract, code path by code path', () => {
  it('an input fault is exit 1 and names the file', async () => {
    const f = s.path('not-a-dump');
    writeFileSync(f, 'hello\n'.repeat(1000));
    expectOneLine(await vaat(['sys', f]), 1, f, /not a (kernel )?(vmcore|dump)/i);
  });
  it('usage faults are exit 2: an unknown option, a missing argument, a malformed value', async () => {
    expect((await vaat(['sys', kdump, '--no-such-option'])).status).toBe(2);
    expect((await vaat(['sys'])).status).toBe(2);
    expectOneLine(await vaat(['rd', kdump, 'init_uts_ns', '-n', '99999999999']), 2, null, /bad byte count '99999999999'/);
    expectOneLine(await vaat(['log', kdump, '--tail', 'many']), 2, null, /--tail wants a count/);
  });
  it('an unforeseen error is exit 3, says it is a bug in vaat and asks for a report; the stack only with --debug', async () => {
    const dir = s.path('cmds');
    mkdirSync(dir);
    writeFileSync(join(dir, 'oops.mjs'), `export default { name: 'oops', summary: 'throws', run() { null.x; }, render() {} };\n`);
    const env = { ...process.env, VAAT_COMMANDS: dir, NO_COLOR: '1' };
    const r = await vaat(['oops', kdump], { env });
    expectOneLine(r, 3, kdump, /internal error.*TypeError.*bug in vaat, please report it/);
    const d = await vaat(['oops', kdump, '--debug'], { env });
    expect(d.status).toBe(3);
    expect(d.stderr).toMatch(/\n\s+at /);
  });
  it('kernel-model errors that know no file name get the dump\'s name (defect 4: "NULL in list at 0x…")', () => {
    const f = describeFailure(new ObjectError('NULL in list at 0xffff888001234000'), { file: '/x/vmcore' });
    expect(f).toMatchObject({ line: '/x/vmcore: NULL in list at 0xffff888001234000', exitCode: 1, kind: 'input' });
    expect(describeFailure(new UsageError('bad'), { file: '/x/vmcore' })).toMatchObject({ line: 'bad', exitCode: 2 });
    expect(describeFailure(new NotFoundError('no task with pid 7'), { file: '/x/v' }).exitCode).toBe(1);
    expect(describeFailure(new RangeError('x'), {}).exitCode).toBe(3);
    // a file already named is not named twice
    expect(describeFailure(new VaatError('truncated', '/x/v'), { file: '/x/v' }).line).toBe('/x/v: truncated');
  });
  it('CorruptDumpError carries the structure and address', () => {
    const e = new CorruptDumpError('task list revisits 0x10', 'f', { structure: 'task list', address: 0x10n });
    expect([e.structure, e.address, e.message]).toEqual(['task list', 0x10n, 'f: task list revisits 0x10']);
  });
  it('a message never carries raw control characters', () => {
    expect(escapeControls('a\tb\x1b]0;pwned\x07c')).toBe('a\\tb\\x1b]0;pwned\\x07c');
    const f = describeFailure(new VaatError('comm "x\x1b[2J"'), {});
    expect(f.line).toBe('comm "x\\x1b[2J"');
  });
});

describe('the README states the contract', () => {
  it('every error class in its exit-code table exits with the status the table gives', () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| (\d+) \| ([^|]*)\| ([^|]*)\|$/gm)];
    let checked = 0;
    for (const [, status, , names] of rows) {
      if (status === '3') continue; // "anything that is not a VaatError"
      for (const [, name] of names.matchAll(/`(\w+Error)`/g)) {
        const Cls = (errors as unknown as Record<string, new (m: string, f?: string, a?: bigint) => Error>)[name];
        expect(Cls, `${name} is not exported by src/errors`).toBeDefined();
        expect(exitCodeFor(new Cls('x', undefined, 0n)), name).toBe(Number(status));
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
    expect(exitCodeFor(new TypeError('x'))).toBe(3);
  });
});

describe('defect 1: --reader libkdumpfile on inputs its known bugs cover', () => {
  it('an ELF dump is refused with the reason instead of SIGSEGV in kdump_read', async () => {
    const elf = plainElf(s.path('softlockup.elf'));
    const r = await vaat(['tasktable', elf, '--fields', 'pid,se.vruntime', '--reader', 'libkdumpfile']);
    expectOneLine(r, 1, elf, /libkdumpfile .* crashes \(SIGSEGV in kdump_read\) reading ELF dumps; use --reader vaat/);
    // the same file reads with vaat's reader
    expect((await vaat(['tasktable', elf, '--fields', 'pid,se.vruntime', '--json'])).status).toBe(0);
  });
  it('formats libkdumpfile reads well are still served by it', async () => {
    const r = await vaat(['info', kdump, '--reader', 'libkdumpfile', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).backend).toBe('libkdumpfile');
  });
});

describe('defect 3: one corrupt VMCOREINFO byte', () => {
  it('is a CorruptDumpError naming the file and the key, the same line from every command, exit 1', async () => {
    const f = copyFixture(KDUMP, s.path('vmcoreinfo-nonhex'));
    patchText(f, 'SYMBOL(init_uts_ns)=ffffffff', 'SYMBOL(init_uts_ns)=fffffff\xfd');
    const lines = new Set<string>();
    for (const [cmd, ...rest] of [['sys'], ['ps'], ['bt', '-a'], ['p', 'init_uts_ns']]) {
      const r = await vaat([cmd, f, ...rest]);
      expectOneLine(r, 1, f, /VMCOREINFO SYMBOL\(init_uts_ns\)=.* is not a 64-bit hex number/);
      lines.add(r.stderr);
    }
    expect(lines.size).toBe(1);
  });
});

describe('defect 4: errors name the file', () => {
  it('VMCOREINFO lacking an OFFSET the log reader needs', async () => {
    const f = copyFixture(KDUMP, s.path('no-offset'));
    patchText(f, 'OFFSET(printk_info.seq)=', 'OFFSET(printk_info.seX)=');
    const r = await vaat(['log', f], { env: noCache() });
    expectOneLine(r, 1, f, /VMCOREINFO lacks OFFSET\(printk_info\.seq\)/);
  });
});

describe('defect 7: debug info of another kernel', () => {
  it('--btf of another kernel (5.10, arm64) is refused naming the BTF file; the right one is used', async () => {
    for (const k of ['kernel-5.10.0-43-cloud-amd64', 'kernel-6.1.0-54-cloud-arm64']) {
      const btf = join(fixturesDir, k, 'vmlinux.btf');
      expectOneLine(await vaat(['bt', kdump, '-a', '--btf', btf]), 1, btf, /types of another kernel: \d+ of \d+ sizes\/offsets/);
    }
    const own = join(fixturesDir, 'kernel-6.1.0-54-cloud-amd64', 'vmlinux.btf');
    const r = await vaat(['info', kdump, '--btf', own, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).sources.types).toContain(own);
  });
  it('a System.map sharing no names with the dump is refused', async () => {
    const map = s.path('other.map');
    writeFileSync(map, 'ffffffff81000000 T not_a_kernel_symbol\nffffffff81000100 T neither_is_this\n');
    expectOneLine(await vaat(['sys', kdump, '--system-map', map]), 1, map, /shares no symbol name/);
  });
});

describe('defect 8: ordinary errors are not exit 3', () => {
  const cases: [string[], number, RegExp][] = [
    [['sym', kdump, 'no_such'], 1, /symbol 'no_such' not found/],
    [['rd', kdump, 'no_such'], 1, /unknown symbol or address 'no_such'/],
    [['bt', kdump, '999999'], 1, /no task with pid 999999/],
    [['runq', kdump, '-c', '99'], 1, /no possible CPU in '99'/],
  ];
  for (const [argv, status, fault] of cases) {
    it(`vaat ${argv.map((a) => (a === kdump ? 'DUMP' : a)).join(' ')} → exit ${status}`, async () => {
      expectOneLine(await vaat(argv), status, kdump, fault);
    });
  }
  it('--vmlinux naming a directory or a missing file: exit 1 naming it', async () => {
    expectOneLine(await vaat(['bt', kdump, '--vmlinux', s.dir]), 1, s.dir, /is a directory/);
    const missing = s.path('no-vmlinux');
    expectOneLine(await vaat(['sym', kdump, 'schedule', '--vmlinux', missing]), 1, missing, /no such file/);
  });
});
