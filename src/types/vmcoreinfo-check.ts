/**
 * Is a type source the dump's kernel? VMCOREINFO records the kernel's own sizeof/offsetof of the
 * structures dump tools need (SIZE(page), OFFSET(zone.free_area), OFFSET(printk_info.seq) ...);
 * a BTF or vmlinux of another build disagrees with some of them. Types the source lacks are not
 * counted, so a partial BTF (a module's, a trimmed one) is not refused for what it does not hold.
 */
import { MismatchedDebugInfoError } from '../errors/index.js';
import type { VmcoreInfo } from '../dump/vmcoreinfo.js';
import type { TypeInfo, TypeId } from './typeinfo.js';

export interface LayoutCheck { compared: number; mismatches: { key: string; dump: number; types: number }[] }

/** compare every SIZE(...) and OFFSET(...) VMCOREINFO holds with what `types` says */
export function compareWithVmcoreinfo(types: TypeInfo, vmcoreinfo: VmcoreInfo): LayoutCheck {
  const out: LayoutCheck = { compared: 0, mismatches: [] };
  for (const [key, raw] of vmcoreinfo.lines) {
    const m = /^(SIZE|OFFSET)\(([A-Za-z_]\w*)(?:\.([\w.]+))?\)$/.exec(key);
    if (!m || !/^\d{1,9}$/.test(raw.trim())) continue;
    const [, what, name, member] = m;
    if ((what === 'OFFSET') !== (member !== undefined)) continue;
    const id = findNamed(types, name);
    if (id === null) continue;
    let have: number;
    try {
      if (what === 'SIZE') have = types.sizeof(id);
      else {
        const loc = types.tryMemberPath(id, member!);
        if (!loc) continue;
        have = loc.offset;
      }
    } catch { continue; }
    out.compared++;
    const want = Number(raw.trim());
    if (have !== want) out.mismatches.push({ key, dump: want, types: have });
  }
  return out;
}

/** throw MismatchedDebugInfoError when `types` (from `label`) contradicts the dump's VMCOREINFO */
export function checkTypesMatchDump(types: TypeInfo, vmcoreinfo: VmcoreInfo, label: string): LayoutCheck {
  const r = compareWithVmcoreinfo(types, vmcoreinfo);
  if (r.mismatches.length > 0) {
    const ex = r.mismatches.slice(0, 3).map((x) => `${x.key} is ${x.types} there, ${x.dump} in the dump`).join('; ');
    throw new MismatchedDebugInfoError(
      `types of another kernel: ${r.mismatches.length} of ${r.compared} sizes/offsets the dump's VMCOREINFO records disagree (${ex})`, label,
    );
  }
  return r;
}

function findNamed(types: TypeInfo, name: string): TypeId | null {
  for (const n of [`struct ${name}`, `union ${name}`, name]) {
    try {
      const id = types.findType(n);
      if (id !== null) return id;
    } catch { /* not this spelling */ }
  }
  return null;
}
