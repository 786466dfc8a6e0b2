/**
 * The published JSON shapes: every command's `--json` output, on every fixture dump, validates
 * against its schema under schema/v1/ (ajv, JSON Schema 2020-12), addresses are "0x…" strings,
 * and keys are camelCase everywhere.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { builtinCommands } from '../commands/index.js';
import { commandSchema, toJson } from '../src/output/json.js';
import { JSON_CASES, caseArgv, commandJson, schemaAjv, schemaValidator } from './command-json.js';
import { dumps, projectRoot } from './fixtures.js';

/** commands that only run over a directory of dumps (the fleet runner), not on one opened dump */
const FLEET_ONLY = new Set(['similar', 'report']);

/** every key of every object in a JSON value, with where it was found */
function keys(v: unknown, path = '$'): [string, string][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => keys(x, `${path}[${i}]`));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [[k, path] as [string, string], ...keys(x, `${path}.${k}`)]);
  return [];
}

/**
 * maps keyed by data rather than by field: memory.events by the kernel's event names, states by
 * ps letters, tasktable rows by the fields the user chose, triage's assignment by dump path
 */
const DATA_KEYED = /\.(events|states|assignment)$|\.rows\[\d+\]$/;

describe('published JSON schemas', () => {
  it('every command has a schema, shipped in the package, and a case here', () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('schema/');
    for (const c of builtinCommands) {
      if (FLEET_ONLY.has(c.name)) continue;
      expect(existsSync(join(projectRoot, 'schema', 'v1', `${c.name}.json`)), c.name).toBe(true);
      expect(JSON_CASES.some((k) => k.command === c.name), c.name).toBe(true);
      expect(commandSchema(c.name)?.$id).toBe(`urn:vaat:schema:v1:${c.name}`);
    }
  });

  it('the serializer writes schema addresses as 0x… and other 64-bit integers as numbers or decimal strings', () => {
    const schema = { type: 'object', properties: { task: { type: 'string', format: 'address' }, ns: { type: 'integer' }, list: { type: 'array', items: { $ref: '#/$defs/a' } } }, $defs: { a: { anyOf: [{ type: 'string', format: 'address' }, { type: 'null' }] } } };
    const v = JSON.parse(toJson({ task: 0xffff89bd023ba0c0n, ns: 1234n, big: 1n << 60n, list: [0x10n, null], skipped: undefined }, schema));
    expect(v).toEqual({ task: '0xffff89bd023ba0c0', ns: 1234, big: '1152921504606846976', list: ['0x10', null] });
  });
});

for (const d of dumps) {
  describe(`--json of every command on ${d.scenario}/${d.name}`, () => {
    let vm: Vmcore | undefined;
    const open = (): Vmcore => (vm ??= openVmcore(d.path));
    afterAll(() => vm?.close());
    for (const c of JSON_CASES) {
      const argv = caseArgv(c, d.scenario);
      if (!argv) continue;
      it(`${c.command} ${argv.join(' ')}`.trim(), async () => {
        let text: string;
        try {
          text = await commandJson(open(), c.command, argv);
        } catch (e) {
          // a command may refuse a dump (no such lock here): then the CLI prints the error, not JSON
          expect((e as Error).message, `${c.command} failed`).toMatch(/not found|no such|unknown/i);
          return;
        }
        const value = JSON.parse(text) as unknown;
        const validate = schemaValidator(c.command);
        const ok = validate(value);
        expect(ok ? [] : schemaAjv.errorsText(validate.errors, { separator: '\n' }).split('\n').slice(0, 10)).toEqual([]);
        const bad = keys(value).filter(([k, at]) => !/^[a-z][a-zA-Z0-9]*$/.test(k) && !DATA_KEYED.test(at));
        expect(bad.slice(0, 10)).toEqual([]);
      });
    }
  });
}
