/** vaat mod: loaded kernel modules (crash mod / lsmod). */
import { defineCommand } from '../src/plugin.js';
import { listModules } from '../src/kernel/module/index.js';
import { hex } from '../src/output/style.js';

export interface ModRow {
  name: string;
  /** struct module address, "0xffff..." */
  module: string;
  base: string;
  size: number;
  state: string;
  taints: string;
  refcount: number | null;
}

export interface ModResult { count: number; modules: ModRow[] }

export default defineCommand<{ json?: boolean }, ModResult>({
  name: 'mod',
  summary: 'loaded modules: address, base, size, state, taints (crash mod)',
  run({ vm }) {
    const modules = listModules(vm).map((m) => ({
      name: m.name, module: hex(m.address), base: hex(m.base), size: m.size, state: m.state, taints: m.taints, refcount: m.refcount,
    }));
    return { count: modules.length, modules };
  },
  render(r, out) {
    out.table(
      r.modules.map((m) => [m.module.slice(2), m.name, m.base.slice(2), m.size, m.state, m.taints ? `(${m.taints})` : '', m.refcount]),
      { header: ['MODULE', 'NAME', 'BASE', 'SIZE', 'STATE', 'TAINTS', 'REFS'], alignRight: [3, 6] },
    );
  },
});
