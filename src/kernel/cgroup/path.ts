/**
 * cgroup v2 paths, as /proc/<pid>/cgroup shows them ("0::/vaat.slice/web"): a task's
 * css_set->dfl_cgrp, then the cgroup's kernfs_node names up the parent chain to the root.
 * Paths are cached per css_set and per cgroup: a system has few of either, so walking
 * 65,000 tasks costs one pointer read each.
 */
import type { KernelContext } from '../../context.js';
import { readCString } from '../../dump/dump.js';
import { VaatError } from '../../errors/index.js';
import { ObjectError } from '../../object/kobject.js';

/** kernfs trees are shallow; a longer chain is corruption */
const MAX_DEPTH = 256;

interface CgroupOffsets {
  dflCgrp: number;
  kn: number;
  knName: number;
  knParent: number;
}


function offsets(vm: KernelContext): CgroupOffsets | null {
  return vm.cache('cgroup.pathOffsets', (): CgroupOffsets | null => {
    let o: CgroupOffsets | null;
    const t = vm.types;
    const parent = t.tryResolveMember('struct kernfs_node', ['__parent', 'parent']); // "kernfs: Use RCU to access kernfs_node::parent", v6.15
    o = t.hasMember('struct css_set', 'dfl_cgrp') && parent
      ? {
          dflCgrp: t.offsetof('struct css_set', 'dfl_cgrp'),
          kn: t.offsetof('struct cgroup', 'kn'),
          knName: t.offsetof('struct kernfs_node', 'name'),
          knParent: parent.offset,
        }
      : null;
  return o;
  });
}

function cache(vm: KernelContext): Map<bigint, string | null> {
  return vm.cache('cgroup.paths', () => new Map<bigint, string | null>());
}

/** a kernfs_node's path from its root: '/' for the root itself */
export function kernfsPath(vm: KernelContext, kn: bigint): string {
  const o = offsets(vm);
  if (!o) throw new VaatError('this kernel has no cgroup v2 (css_set.dfl_cgrp) or kernfs types');
  const names: string[] = [];
  for (let n = kn, depth = 0; n !== 0n; depth++) {
    if (depth > MAX_DEPTH) throw new ObjectError(`kernfs parent chain at 0x${kn.toString(16)} does not end`);
    const parent = vm.mem.pointer(n + BigInt(o.knParent));
    if (parent === 0n) break; // the root's own name is not part of paths
    names.push(readCString(vm.mem, vm.mem.pointer(n + BigInt(o.knName)), 256));
    n = parent;
  }
  return '/' + names.reverse().join('/');
}

/** a struct cgroup's v2 path */
export function cgroupPath(vm: KernelContext, cgrp: bigint): string | null {
  const o = offsets(vm);
  if (!o || cgrp === 0n) return null;
  const c = cache(vm);
  const key = cgrp | 1n; // cgroups and css_sets share the cache: tag cgroup keys (both are 8-aligned)
  if (c.has(key)) return c.get(key)!;
  const p = kernfsPath(vm, vm.mem.pointer(cgrp + BigInt(o.kn)));
  c.set(key, p);
  return p;
}

/** the cgroup v2 path of the css_set a task points at (task->cgroups), null without cgroup v2 */
export function cssSetCgroupPath(vm: KernelContext, cssSet: bigint): string | null {
  if (cssSet === 0n) return null;
  // every task asks: one lookup when its css_set was seen (nearly always)
  const c = cache(vm);
  const known = c.get(cssSet);
  if (known !== undefined) return known;
  const o = offsets(vm);
  if (!o) return null;
  let p: string | null;
  try {
    p = cgroupPath(vm, vm.mem.pointer(cssSet + BigInt(o.dflCgrp)));
  } catch {
    p = null; // an unreadable css_set (excluded page) leaves the path unknown rather than failing the walk
  }
  c.set(cssSet, p);
  return p;
}

/** task_dfl_cgroup(task) as a path: task->cgroups->dfl_cgrp */
export function taskCgroupPath(vm: KernelContext, task: bigint): string | null {
  const off = vm.types.tryMemberPath('struct task_struct', 'cgroups');
  if (!off) return null; // !CONFIG_CGROUPS
  return cssSetCgroupPath(vm, vm.mem.pointer(task + BigInt(off.offset)));
}
