/**
 * The type cache's lookup orders (src/types/dwarf-orders.ts): an index loaded from the cache,
 * searched by binary search, answers every name, variable, function and enumerator lookup as the
 * Map path over the same index does, on the debug vmlinux (when installed) and on a small program
 * gcc compiles here. A cache file whose orders are damaged or do not fit its index is a miss; an
 * order entry that is out of range is a DwarfIndexError at lookup, never an answer.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCache } from '../src/cache/build-id-cache.js';
import { appendDwarfOrders, type DwarfLookupOrders } from '../src/types/dwarf-orders.js';
import { DWARF_INDEX_VERSION, DwarfIndexError, DwarfTypes } from '../src/types/dwarf.js';
import { canonicalBaseName } from '../src/types/names.js';
import { loadDwarfIndex, nativeDwarf, readTypeCache, TYPE_CACHE_VERSION, typeCachePath } from '../src/types/type-cache.js';

const VMLINUX = '/usr/lib/debug/boot/vmlinux-6.1.0-54-cloud-amd64';
const hasDbg = existsSync(VMLINUX);
const hasGcc = (() => { try { execFileSync('gcc', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
if (!hasDbg || !hasGcc) console.warn(`test/dwarf-orders.test.ts: skipping tests without${hasDbg ? '' : ` ${VMLINUX}`}${hasGcc ? '' : ' gcc'}`);

const cacheHome = mkdtempSync(join(tmpdir(), 'vaat-dwarf-orders-cache-'));
const env = { ...process.env, XDG_CACHE_HOME: cacheHome };
const work = mkdtempSync(join(tmpdir(), 'vaat-dwarf-orders-'));
afterAll(() => { rmSync(cacheHome, { recursive: true, force: true }); rmSync(work, { recursive: true, force: true }); });

/** the name index's own lookup (protected: findType adds namespace fallbacks on top) */
const lookupName = (t: DwarfTypes, key: string): number | null => (t as unknown as { lookupName(key: string): number | null }).lookupName(key);

/** names of the variable or function table, read straight from the index bytes */
function symbolNames(t: DwarfTypes, index: Buffer, table: 'vars' | 'funcs'): string[] {
  const { offsets, nVars, nFuncs } = t.header;
  const [n, stride] = table === 'vars' ? [nVars, 32] : [nFuncs, 24];
  return Array.from({ length: n }, (_, i) => {
    const at = offsets.strings + index.readUInt32LE(offsets[table] + i * stride);
    return index.toString('utf8', at, index.indexOf(0, at));
  });
}

/** every key the name index files a type under, and every enumerator name */
function typeKeys(t: DwarfTypes): { keys: string[]; enumerators: string[] } {
  const keys: string[] = [], enumerators: string[] = [];
  for (let id = 1; id < t.typeCount; id++) {
    const d = t.describe(id);
    if (d.name === null) continue;
    if (d.kind === 'struct' || d.kind === 'union') keys.push(`${d.kind} ${d.name}`);
    else if (d.kind === 'enum') { keys.push(`enum ${d.name}`); enumerators.push(...d.enumerators.map((e) => e.name)); }
    else if (d.kind === 'fwd') keys.push(`${d.of} ${d.name}`);
    else if (d.kind === 'typedef') keys.push(d.name);
    else if (d.kind === 'int' || d.kind === 'float') keys.push(canonicalBaseName(d.name), d.name);
  }
  return { keys, enumerators };
}

const ABSENT = ['', 'void', 'struct', 'struct ', 'zzzz_absent', 'struct zzzz_absent', '\u00e4', 'unsigned long', 'long unsigned int', 'int', 'char'];

/** the warm (ordered) and Map-path DwarfTypes over one index answer every lookup alike */
function expectSameAnswers(index: Buffer, orders: DwarfLookupOrders): void {
  const ordered = new DwarfTypes(index, { orders });
  const mapped = new DwarfTypes(index);
  const { keys, enumerators } = typeKeys(mapped);
  const names = [...keys, ...ABSENT];
  expect(names.map((k) => lookupName(ordered, k))).toEqual(names.map((k) => lookupName(mapped, k)));
  const vars = [...symbolNames(mapped, index, 'vars'), ...ABSENT];
  expect(vars.map((n) => ordered.findVariable(n))).toEqual(vars.map((n) => mapped.findVariable(n)));
  const funcs = [...symbolNames(mapped, index, 'funcs'), ...ABSENT];
  expect(funcs.map((n) => ordered.findFunction(n))).toEqual(funcs.map((n) => mapped.findFunction(n)));
  const enums = [...enumerators, ...ABSENT];
  expect(enums.map((n) => ordered.findEnumerator(n))).toEqual(enums.map((n) => mapped.findEnumerator(n)));
  // the lookups above found something: the comparison is not between two empty indexes
  expect(keys.length).toBeGreaterThan(5);
  expect(vars.some((n) => mapped.findVariable(n) !== null)).toBe(true);
}

describe('DWARF lookup orders', () => {
  it.skipIf(!hasDbg)(`a warm load of the debug vmlinux answers every lookup as the Map path does${hasDbg ? '' : ' (SKIPPED: no debug vmlinux)'}`, () => {
    const cold = loadDwarfIndex(VMLINUX, { env });
    const warm = loadDwarfIndex(VMLINUX, { env });
    expect([cold.from, warm.from]).toEqual(['vmlinux', 'cache']);
    expect(warm.index.equals(cold.index)).toBe(true);
    expect(warm.orders).not.toBeNull();
    expectSameAnswers(warm.index, warm.orders!);
    // the orders made at extraction are the ones stored
    for (const k of ['names', 'vars', 'funcs', 'enumTypes', 'enumIndexes'] as const) expect(warm.orders![k]).toEqual(cold.orders![k]);
  }, 120_000);

  const C = `
struct s; struct s *early;          /* a declaration before the definition */
struct s { int a; };
typedef struct s s_t; typedef int s_t2;
union u { int x; long y; };
enum e { A = 1, B, DUP = 7 };
enum f { C_ = 3, D };
long unsigned int lu; unsigned char uc; float fl; double db;
static int twice; int *use_twice(void) { return &twice; }
int g1, g2; s_t sv; union u uv; enum e ev; enum f fv;
static int helper(int x) { return x + 1; }
int main(void) { return helper(g1) + (early != 0) + *use_twice(); }
`;

  it.skipIf(!hasGcc)('a small program: same answers warm and fresh; damaged or misfit orders are a miss', () => {
    writeFileSync(join(work, 'p.c'), C);
    const exe = join(work, 'p');
    execFileSync('gcc', ['-O0', '-g', '-Wl,--build-id=sha1', '-o', exe, join(work, 'p.c')]);
    const id = nativeDwarf().elfIdentity(exe).buildId!;
    const cold = loadDwarfIndex(exe, { env });
    const warm = loadDwarfIndex(exe, { env });
    expect(warm.from).toBe('cache');
    expectSameAnswers(warm.index, warm.orders!);
    // the definition, not the declaration before it
    expect(lookupName(new DwarfTypes(warm.index, { orders: warm.orders! }), 'struct s')).toBe(new DwarfTypes(cold.index).getType('struct s'));
    expect(new DwarfTypes(warm.index, { orders: warm.orders! }).describe(lookupName(new DwarfTypes(warm.index, { orders: warm.orders! }), 'struct s')!).kind).toBe('struct');

    const file = typeCachePath(id, env)!;
    const good = readFileSync(file);
    const why = (): string | null => { const r = readTypeCache(id, { env }); return r.index ? null : r.why; };
    // a byte of the stored orders flipped: the checksum refuses the file
    const flipped = Buffer.from(good);
    flipped[flipped.length - 40] ^= 0x55;
    writeFileSync(file, flipped);
    expect(why()).toMatch(/checksum/);
    // files whose checksum holds but whose orders do not fit the index
    const version = TYPE_CACHE_VERSION * 1000 + DWARF_INDEX_VERSION;
    const store = (payload: Uint8Array): void => { writeCache('types', id, version, payload, env); };
    const o = warm.orders!;
    store(warm.index);
    expect(why()).toMatch(/lookup orders: missing/);
    store(appendDwarfOrders(warm.index, o).subarray(0, -36));
    expect(why()).toMatch(/lookup orders: missing/);
    store(appendDwarfOrders(warm.index, { ...o, vars: o.vars.subarray(1) }));
    expect(why()).toMatch(/lookup orders: .*variables/);
    store(appendDwarfOrders(warm.index, { ...o, enumIndexes: o.enumIndexes.subarray(1) }));
    expect(why()).toMatch(/lookup orders: sizes/);
    const tooMany = new Uint32Array(new DwarfTypes(warm.index).header.nItems + 1);
    store(appendDwarfOrders(warm.index, { ...o, enumTypes: tooMany, enumIndexes: tooMany }));
    expect(why()).toMatch(/lookup orders: .*enumerator/);
    const grown = Buffer.from(appendDwarfOrders(warm.index, o));
    grown.writeUInt32LE(grown.readUInt32LE(grown.length - 24) + 1, grown.length - 24); // the trailer's name count
    store(grown);
    expect(why()).toMatch(/lookup orders: sizes/);
    // and a fresh load after a miss extracts and rewrites a good file
    expect(loadDwarfIndex(exe, { env }).from).toBe('vmlinux');
    expect(readTypeCache(id, { env }).index).not.toBeNull();

    // entries out of range: an error at lookup, never an answer
    const bad = (patch: Partial<DwarfLookupOrders>): DwarfTypes => new DwarfTypes(warm.index, { orders: { ...o, ...patch } });
    const huge = (a: Uint32Array): Uint32Array => a.map(() => 0xfffffff0);
    expect(() => lookupName(bad({ names: huge(o.names) }), 'struct s')).toThrow(DwarfIndexError);
    expect(() => bad({ vars: huge(o.vars) }).findVariable('g1')).toThrow(DwarfIndexError);
    expect(() => bad({ funcs: huge(o.funcs) }).findFunction('main')).toThrow(DwarfIndexError);
    expect(() => bad({ enumTypes: huge(o.enumTypes) }).findEnumerator('DUP')).toThrow(DwarfIndexError);
    expect(() => bad({ enumIndexes: huge(o.enumIndexes) }).findEnumerator('DUP')).toThrow(DwarfIndexError);
    expect(() => new DwarfTypes(warm.index, { orders: { ...o, funcs: o.funcs.subarray(1) } })).toThrow(/lookup orders/);
  });
});
