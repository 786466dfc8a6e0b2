/**
 * Globals typed from their header declarations (src/types/well-known.ts), for BTF without VAR
 * records (5.10): every declaration, resolved in each tested kernel's own BTF, is the type DWARF
 * gives that variable; C type expressions resolve with derived pointer and array types; and where
 * a type cannot be known the output says unknown, never 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBtf } from '../src/types/btf.js';
import { DwarfTypes } from '../src/types/dwarf.js';
import { loadDwarfIndex } from '../src/types/type-cache.js';
import { DERIVED_TYPE_BASE } from '../src/types/type-source.js';
import type { TypeInfo } from '../src/types/typeinfo.js';
import { declaredGlobalType, globalType, WELL_KNOWN_GLOBALS } from '../src/types/well-known.js';
import { Dump } from '../src/dump/dump.js';
import { Vmcore } from '../src/vmcore.js';
import { sysInfo } from '../src/analysis/sys.js';
import { debugVmlinux, dumpsOf, testedKernels } from './fixtures.js';
import { vaat } from './cli.js';

/** DWARF's spelling made comparable with a declaration: qualifiers dropped, array lengths kept only where the declaration states one */
function comparable(name: string, declared: string): string {
  let n = name.replace(/\b(const|volatile) /g, '').replace(/ (const|volatile)\b/g, '');
  if (/\[\]/.test(declared)) n = n.replace(/\[\d+\]/, '[]');
  return n;
}

describe.each(testedKernels)('declarations on $release', (k) => {
  const btf = parseBtf(readFileSync(join(k.dir, 'vmlinux.btf')), { label: `${k.release} vmlinux.btf` });
  const symbols = new Set(readFileSync(k.systemMap, 'utf8').split('\n').map((l) => l.split(' ')[2]));
  const vmlinux = debugVmlinux(k);

  it('names a type for every global the commands read where the BTF has no variable record', () => {
    // (the x86 ones only where this kernel has them: System.map)
    const names = ['init_task', 'runqueues', '__per_cpu_offset', 'cgroup_mutex', 'cgrp_dfl_root', 'init_uts_ns', 'jiffies', '__cpu_online_mask', 'modules', 'tainted_mask', 'cpu_tlbstate', 'cpu_info', 'cpu_sibling_map', 'panic_cpu', 'node_data']
      .filter((name) => symbols.has(name));
    expect(names.length).toBeGreaterThanOrEqual(12);
    for (const name of names) expect(globalType(btf, name), name).not.toBeNull();
  });

  it.skipIf(!existsSync(vmlinux))(`each declaration is DWARF's type of that variable${existsSync(vmlinux) ? '' : ` (SKIPPED: needs linux-image-${k.release}-dbg: ${vmlinux} not installed)`}`, () => {
    const dwarf = new DwarfTypes(loadDwarfIndex(vmlinux).index);
    let compared = 0;
    const wrong: string[] = [];
    for (const [name, decl] of Object.entries(WELL_KNOWN_GLOBALS)) {
      const ours = declaredGlobalType(btf, name);
      const v = dwarf.findVariable(name);
      if (!v || !symbols.has(name)) continue; // not in this kernel (another architecture's, or renamed)
      compared++;
      if (ours === null) { wrong.push(`${name}: '${decl}' does not resolve`); continue; }
      const declared = typeof decl === 'string' ? decl : decl[0];
      const [a, b] = [comparable(btf.typeName(ours), declared), comparable(dwarf.typeName(v.type), declared)];
      if (a !== b) wrong.push(`${name}: declared ${a}, DWARF ${b}`);
      const t = btf.resolved(ours);
      if ((t.kind !== 'array' || t.length > 0) && btf.sizeof(ours) !== dwarf.sizeof(v.type)) wrong.push(`${name}: ${btf.sizeof(ours)} bytes, DWARF ${dwarf.sizeof(v.type)}`);
    }
    expect(wrong).toEqual([]);
    expect(compared).toBeGreaterThan(50); // ~90 declarations, a dozen of them x86-only
  });
});

describe('C type expressions', () => {
  const k = testedKernels[0];
  const btf: TypeInfo = parseBtf(readFileSync(join(k.dir, 'vmlinux.btf')));

  it('pointers and arrays are derived once and spelled back', () => {
    const p = btf.getType('struct printk_ringbuffer *');
    expect(p).toBeGreaterThanOrEqual(DERIVED_TYPE_BASE);
    expect(btf.getType('struct printk_ringbuffer *')).toBe(p);
    expect(btf.typeName('const struct cpumask *')).toBe('struct cpumask *');
    expect(btf.sizeof('unsigned long [3]')).toBe(24);
    expect(btf.typeName('struct pglist_data *[]')).toBe('struct pglist_data *[]');
    expect(btf.typeName('struct task_struct **')).toBe('struct task_struct **');
    // a length may be an enumerator of the kernel
    const n = Number(btf.enumValue('CGROUP_SUBSYS_COUNT'));
    expect(btf.sizeof('struct cgroup_subsys *[CGROUP_SUBSYS_COUNT]')).toBe(n * 8);
  });

  it('an unknown base name or length is no type', () => {
    expect(() => btf.getType('struct no_such_thing *')).toThrow(/no type named/);
    expect(() => btf.getType('unsigned long [NO_SUCH_ENUMERATOR]')).toThrow(/no type named/);
    expect(declaredGlobalType(btf, 'no_such_global')).toBeNull();
    expect(declaredGlobalType(btf, 'toString')).toBeNull();
  });
});

describe.each(dumpsOf('cgroup-mutex-hung', { primary: true }))('a type that cannot be known: $scenario', (d) => {
  /** the dump with `struct rq` hidden from its types, as a kernel whose BTF lacks it would be */
  class WithoutRq extends Vmcore {
    #types?: TypeInfo;
    override get types(): TypeInfo {
      if (this.#types) return this.#types;
      const real = super.types;
      return (this.#types = new Proxy(real, {
        get(target, prop) {
          if (prop === 'findType') return (n: string, o?: object) => (/\brq\b/.test(n) ? null : target.findType(n, o));
          if (prop === 'getType') return (n: string | number) => { if (typeof n === 'string' && /\brq\b/.test(n)) throw new Error(`no type named '${n}'`); return target.getType(n); };
          if (prop === 'findVariable') return (n: string) => (n === 'runqueues' ? null : target.findVariable(n));
          const v = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }));
    }
  }

  it('the task count is unknown (null, with the reason), never 0', () => {
    const vm = new WithoutRq(Dump.open(d.path), { vmlinux: false });
    try {
      expect(() => vm.object('runqueues')).toThrow(/no type known for 'runqueues'/);
      const r = sysInfo(vm);
      expect(r.tasks).toBeNull();
      // named: runqueues itself, or (a bare arm64 dump) init_task, which is derived from CPU 0's runqueue
      expect(r.warnings.join('\n')).toMatch(/tasks: .*(runqueues|init_task)/);
    } finally {
      vm.close();
    }
  });

  it('a global nobody declared names itself in the error, exit 1', async () => {
    const r = await vaat(['p', d.path, 'vaat_no_such_global']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/vaat_no_such_global/);
  });
});
