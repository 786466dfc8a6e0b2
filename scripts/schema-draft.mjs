#!/usr/bin/env node
// Draft a command's JSON Schema from real outputs: `node scripts/schema-draft.mjs runq out1.json
// out2.json ...` prints a 2020-12 schema whose types, required keys and `"format": "address"`
// strings are what every given output has. The drafts under schema/ were made this way and then
// edited by hand (descriptions, units, enums); re-run it when a command's output changes shape.
import { readFileSync } from 'node:fs';

const [name, ...files] = process.argv.slice(2);
if (!name || files.length === 0) {
  console.error('usage: schema-draft.mjs <command> <output.json>...');
  process.exit(2);
}
const ADDRESS = /^0x[0-9a-f]+$/;
const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v);

function infer(values) {
  const byKind = new Map();
  for (const v of values) {
    const k = kind(v);
    if (!byKind.has(k)) byKind.set(k, []);
    byKind.get(k).push(v);
  }
  if (byKind.has('integer') && byKind.has('number')) {
    byKind.get('number').push(...byKind.get('integer'));
    byKind.delete('integer');
  }
  const alts = [...byKind].map(([k, vs]) => one(k, vs));
  if (alts.length === 0) return {};
  if (alts.length === 1) return alts[0];
  return { anyOf: alts };
}

function one(k, vs) {
  switch (k) {
    case 'string': return vs.every((v) => ADDRESS.test(v)) ? { type: 'string', format: 'address' } : { type: 'string' };
    case 'array': return { type: 'array', items: infer(vs.flat()) };
    case 'object': {
      // trees (task groups, cgroups): every node at every depth is one recursive definition
      if (vs.some((o) => Array.isArray(o.children) && o.children.some((c) => c && typeof c === 'object' && !Array.isArray(c)))) {
        const name = `node${Object.keys(defs).length + 1}`;
        defs[name] = {};
        const all = [];
        const walk = (o) => { all.push(o); for (const c of o.children ?? []) walk(c); };
        vs.forEach(walk);
        const def = one('object', all.map(({ children, ...rest }) => rest));
        def.properties.children = { type: 'array', items: { $ref: `#/$defs/${name}` } };
        if (all.every((o) => Array.isArray(o.children))) def.required = [...(def.required ?? []), 'children'];
        defs[name] = def;
        return { $ref: `#/$defs/${name}` };
      }
      const keys = new Map();
      for (const o of vs) for (const [key, val] of Object.entries(o)) {
        if (!keys.has(key)) keys.set(key, []);
        keys.get(key).push(val);
      }
      // maps keyed by data (pids, CPUs, field names) rather than a record's fields
      const dynamic = keys.size > 48 || [...keys.keys()].some((key) => !/^[a-zA-Z_$][\w$]*$/.test(key));
      if (dynamic) return { type: 'object', additionalProperties: infer([...keys.values()].flat()) };
      const required = [...keys].filter(([, v]) => v.length === vs.length).map(([key]) => key);
      return {
        type: 'object',
        properties: Object.fromEntries([...keys].map(([key, v]) => [key, infer(v)])),
        ...(required.length ? { required } : {}),
        additionalProperties: false,
      };
    }
    default: return { type: k };
  }
}

const defs = {};
const samples = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `urn:vaat:schema:v1:${name}`,
  title: `vaat ${name} --json`,
  ...infer(samples),
};
if (Object.keys(defs).length) schema.$defs = defs;
process.stdout.write(JSON.stringify(schema, null, 2) + '\n');
