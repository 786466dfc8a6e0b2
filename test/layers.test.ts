/**
 * The layering of the source tree, checked from the import statements themselves: layers import
 * only downwards (native bytes → dump → symbols/types/elf → object → the kernel context → arch →
 * kernel model → vmcore → output → analyses several commands share → fleet → commands → CLI, fleet
 * service and report on top; src/report, the HTML report, sits beside src/fleet), and no module
 * imports itself back through others.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir))) {
    const p = join(dir, e);
    if (statSync(join(root, p)).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** every relative import (static, re-export, type-only or dynamic) of each file, as repo paths */
function importGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of ['src', 'commands', 'cli'].flatMap(sources)) {
    const text = readFileSync(join(root, f), 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      deps.push(relative(root, resolve(root, dirname(f), m[1])).replace(/\.js$/, '.ts'));
    }
    g.set(f, deps);
  }
  return g;
}

/** a file's layer: the lower the number, the closer to the bytes */
function layer(f: string): number {
  const rules: [RegExp, number][] = [
    [/^src\/(dump\/|errors\/|progress\.ts$|package-root\.ts$|dynamic-import\.ts$|clock\.ts$)/, 0],
    [/^src\/(symbols|types|elf|cache)\//, 1],
    [/^src\/object\//, 2],
    [/^src\/context\.ts$/, 3],
    [/^src\/arch\//, 4],
    [/^src\/kernel\//, 5],
    // the object openVmcore() returns: a context over a real dump, loading symbols and types (with
    // the kernel model's struct module layout) on first use
    [/^src\/vmcore\.ts$/, 6],
    [/^src\/(output\/|plugin\.ts$)/, 7],
    // records several commands show (crash's sys, wait-for chains as text)
    [/^src\/analysis\//, 8],
    // src/report, the HTML report, sits beside src/fleet
    [/^src\/(fleet|report)\//, 9],
    [/^commands\//, 10],
    [/^(cli\/|src\/index\.ts$|src\/api-args\.ts$)/, 11],
    // the fleet service: a program beside the CLI, on top of src/fleet
    [/^src\/service\//, 11],
  ];
  const hit = rules.find(([re]) => re.test(f));
  if (!hit) throw new Error(`${f}: no layer assigned (add it to test/layers.test.ts)`);
  return hit[1];
}


describe('layers', () => {
  const g = importGraph();

  it('every import goes down (or stays within) the layers', () => {
    const up: string[] = [];
    for (const [f, deps] of g) for (const d of deps) if (layer(d) > layer(f)) up.push(`${f} → ${d}`);
    expect(up).toEqual([]);
  });

  it('the kernel model and the architectures take the context, never the concrete dump (src/vmcore.ts)', () => {
    const bad = [...g].filter(([f]) => /^src\/(kernel|arch)\//.test(f)).flatMap(([f, deps]) => deps.filter((d) => d === 'src/vmcore.ts').map((d) => `${f} → ${d}`));
    expect(bad).toEqual([]);
  });

  it('no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of g.get(f) ?? []) {
        if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' → '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of g.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('the kernel model formats no text: nothing in src/kernel imports src/output', () => {
    const bad = [...g].filter(([f]) => f.startsWith('src/kernel/')).flatMap(([f, deps]) => deps.filter((d) => d.startsWith('src/output/')).map((d) => `${f} → ${d}`));
    expect(bad).toEqual([]);
  });

  it('no command imports another command (commands/index.ts is the list of them)', () => {
    const bad = [...g].filter(([f]) => f.startsWith('commands/') && f !== 'commands/index.ts')
      .flatMap(([f, deps]) => deps.filter((d) => d.startsWith('commands/')).map((d) => `${f} → ${d}`));
    expect(bad).toEqual([]);
  });

  it('kernel address bounds come from the architecture seam: no 0xffff8… literal outside src/arch', () => {
    const bad = ['src', 'commands', 'cli'].flatMap(sources).filter((f) => !f.startsWith('src/arch/'))
      .filter((f) => /0xffff_?8/i.test(readFileSync(join(root, f), 'utf8')));
    expect(bad).toEqual([]);
  });

  it('layouts are told apart by shape, not by the release string: no kernelVersion()', () => {
    const bad = ['src', 'commands', 'cli'].flatMap(sources).filter((f) => /kernelVersion/.test(readFileSync(join(root, f), 'utf8')));
    expect(bad).toEqual([]);
  });
});
