/**
 * The one serializer: a command's result (typed records from the kernel model) → JSON text.
 *
 * Conventions, the same for every command (README "JSON output"):
 *  - keys are camelCase, as the records have them;
 *  - kernel addresses are bigints in the model and `"0x…"` strings (lower-case hex) in JSON;
 *    the command's published schema (schema/v1/<command>.json) marks them `"format": "address"`;
 *  - other 64-bit integers (counters, clocks, raw words) are JSON numbers when exact, else decimal
 *    strings;
 *  - units are in the key or its schema description: `…Ns` nanoseconds, `…Bytes` bytes,
 *    `…Pages` pages, `seconds` seconds, jiffies as `jiffies…`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';

/** The subset of JSON Schema (2020-12) the serializer reads. */
export interface JsonSchema {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  type?: string | string[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  [k: string]: unknown;
}

/** The version of the published JSON shapes (schema/v1/...). */
export const SCHEMA_VERSION = 1;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** a 64-bit integer that is no address, as JSON and tables show it: a number when exact, else its decimal string */
export function plainBigint(v: bigint): number | string {
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString();
}

/** `0x…` for an address (two's complement for a negative value read as signed) */
export function addressText(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

function resolve(s: JsonSchema | undefined, root: JsonSchema): JsonSchema | undefined {
  let cur = s;
  for (let i = 0; cur?.$ref && i < 32; i++) {
    const m = /^#\/\$defs\/(.+)$/.exec(cur.$ref);
    cur = m ? root.$defs?.[m[1]] : undefined;
  }
  return cur;
}

/** does schema `s` say a bigint here is an address? (directly, or in one of its alternatives) */
function isAddress(s: JsonSchema | undefined, root: JsonSchema): boolean {
  const r = resolve(s, root);
  if (!r) return false;
  if (r.format === 'address') return true;
  return [...(r.anyOf ?? []), ...(r.oneOf ?? [])].some((a) => isAddress(a, root));
}

/** the alternative of `s` that describes objects / arrays, for walking into a value */
function branch(s: JsonSchema | undefined, root: JsonSchema, want: 'object' | 'array'): JsonSchema | undefined {
  const r = resolve(s, root);
  if (!r) return undefined;
  const alts = [...(r.anyOf ?? []), ...(r.oneOf ?? [])];
  if (alts.length === 0) return r;
  for (const a of alts) {
    const ra = resolve(a, root);
    // an alternative that is itself a choice: look inside it
    if (ra?.anyOf || ra?.oneOf) { const inner = branch(ra, root, want); if (inner !== ra) return inner; continue; }
    const t = ra?.type;
    if (t === want || (Array.isArray(t) && t.includes(want)) || (want === 'object' && ra?.properties) || (want === 'array' && ra?.items)) return ra;
  }
  return r;
}

/** what a schema node says, worked out once per node: a `ps --json` of 20,000 rows asked ~400k times */
interface SchemaFacts { address: boolean; object: JsonSchema | undefined; array: JsonSchema | undefined }
const factsMemo = new WeakMap<JsonSchema, WeakMap<JsonSchema, SchemaFacts>>();

function factsOf(s: JsonSchema | undefined, root: JsonSchema | undefined): SchemaFacts | undefined {
  if (!s || !root) return undefined;
  let perRoot = factsMemo.get(root);
  if (!perRoot) factsMemo.set(root, (perRoot = new WeakMap()));
  let f = perRoot.get(s);
  if (!f) perRoot.set(s, (f = { address: isAddress(s, root), object: branch(s, root, 'object'), array: branch(s, root, 'array') }));
  return f;
}

/** A result → plain JSON values, guided by the command's schema where it has one. */
export function toJsonValue(value: unknown, schema?: JsonSchema, root: JsonSchema | undefined = schema): unknown {
  if (typeof value === 'bigint') return factsOf(schema, root)?.address ? addressText(value) : plainBigint(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Map) value = Object.fromEntries(value);
  if (Array.isArray(value)) {
    const s = factsOf(schema, root)?.array;
    return value.map((v) => toJsonValue(v, s?.items, root));
  }
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') return toJsonValue(toJSON.call(value), schema, root);
  const s = factsOf(schema, root)?.object;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    const sub = s?.properties?.[k] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
    out[k] = toJsonValue(v, sub, root);
  }
  return out;
}

/**
 * JSON text of a result (2-space indented), addresses as `0x…` where the schema says so.
 * `schema` is a schema, or the name of a built-in command whose published schema guides it
 * (`toJson(result, 'ps')` prints what `vaat ps --json` prints).
 */
export function toJson(value: unknown, schema?: JsonSchema | string): string {
  const s = typeof schema === 'string' ? commandSchema(schema) ?? undefined : schema;
  return JSON.stringify(toJsonValue(value, s), null, 2);
}

/**
 * How values become JSON at one place in a result, and the shapes one level down: what
 * json-stream.ts walks a result with, element by element, to write the same text as toJson().
 */
export interface JsonShape {
  value(v: unknown): unknown;
  property(key: string): JsonShape;
  items(): JsonShape;
}

/** the shape a schema gives a value (none: bigints as numbers or decimal strings, as toJson without a schema) */
export function schemaShape(schema?: JsonSchema, root: JsonSchema | undefined = schema): JsonShape {
  return {
    value: (v) => toJsonValue(v, schema, root),
    property(key) {
      const s = factsOf(schema, root)?.object;
      return schemaShape(s?.properties?.[key] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined), root);
    },
    items: () => schemaShape(factsOf(schema, root)?.array?.items, root),
  };
}

const schemas = new Map<string, JsonSchema | null>();

/** The published schema of a built-in command (schema/v1/<name>.json), null when it has none. */
export function commandSchema(name: string): JsonSchema | null {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) return null;
  let s = schemas.get(name);
  if (s === undefined) {
    const root = packageRoot();
    try { s = root ? JSON.parse(readFileSync(join(root, 'schema', `v${SCHEMA_VERSION}`, `${name}.json`), 'utf8')) as JsonSchema : null; } catch { s = null; }
    schemas.set(name, s);
  }
  return s;
}
