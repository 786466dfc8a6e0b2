/** vaat mod: loaded kernel modules (crash mod / lsmod). */
import { defineCommand } from '../src/plugin.js';
import { listModules, type KernelModule } from '../src/kernel/module/index.js';
import { hex } from '../src/output/style.js';

/** a module as `mod` lists it: the model's record, its struct module address under the key `module` */
export type ModRow = Omit<KernelModule, 'address'> & { module: KernelModule['address'] };

export interface ModResult { count: number; modules: ModRow[] }

export default defineCommand<{ json?: boolean }, ModResult>({
  name: 'mod',
  summary: 'loaded modules: address, base, size, state, taints (crash mod)',
  run({ vm }) {
    const modules = listModules(vm).map(({ name, address, ...rest }): ModRow => ({ name, module: address, ...rest }));
    return { count: modules.length, modules };
  },
  render(r, out) {
    out.table(
      r.modules.map((m) => [hex(m.module).slice(2), m.name, hex(m.base).slice(2), m.size, m.state, m.taints ? `(${m.taints})` : '', m.refcount]),
      { header: ['MODULE', 'NAME', 'BASE', 'SIZE', 'STATE', 'TAINTS', 'REFS'], alignRight: [3, 6] },
    );
  },
});
