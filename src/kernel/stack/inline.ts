/**
 * Inlined functions in backtraces. ORC describes only physical frames; an inlined call leaves no
 * frame of its own, so only DWARF (DW_TAG_inlined_subroutine pc ranges) can say that a pc inside
 * __mutex_lock is really inside __mutex_lock_common inlined there. With DWARF types in use, each
 * vmlinux frame becomes the chain of inlined functions at its pc, innermost first, then the
 * physical frame, as drgn lists them.
 *
 * The index with inline ranges is twice the size of the types-only one (21 MiB, 465k ranges for
 * 6.1), so it is loaded only when a stack is expanded, once per kernel build for the process
 * (dwarfTypesForDump keeps it), and cached on disk beside the types-only index.
 */
import type { KernelContext } from '../../context.js';
import { DwarfTypes, type InlineRange } from '../../types/dwarf.js';
import { dwarfTypesForDump } from '../../types/debuginfo.js';
import type { StackFrame } from '../../arch/index.js';
import { moduleInlinedAt } from '../module/debug.js';

/** Where a dump's inline ranges come from, or why there are none. */
export type InlineSource =
  /** `offset`: KASLR's shift (VMCOREINFO KERNELOFFSET); DWARF holds link-time addresses */
  | { readonly ranges: DwarfTypes; readonly offset: bigint; readonly note: string }
  | { readonly ranges: null; readonly note: string };

/**
 * The inline ranges of the dump's kernel: null unless its types come from DWARF (BTF has no
 * inlining information). Never throws: a failed load only costs the inlined frames.
 */
export function inlineSource(vm: KernelContext): InlineSource {
  return vm.cache('stack.inlineSource', (): InlineSource => {
    let src: InlineSource;
    try {
      const types = vm.types;
      if (!(types instanceof DwarfTypes)) src = { ranges: null, note: `types from ${types.source}: no inline information` };
      else if (types.hasInlines) src = { ranges: types, offset: vm.vmcoreinfo.kernelOffset, note: 'inline ranges in the loaded DWARF index' };
      else {
        // the same vmlinux the types came from: same options, same identity check
        const d = dwarfTypesForDump({ buildId: vm.vmcoreinfo.buildId, release: vm.vmcoreinfo.osrelease }, { ...vm.options, inlines: true });
        if (!d || !d.types.hasInlines) src = { ranges: null, note: 'no DWARF index with inline ranges' };
        else if (d.types.buildId !== types.buildId) src = { ranges: null, note: `inline index is build-id ${d.types.buildId}, types ${types.buildId}` };
        else src = { ranges: d.types, offset: vm.vmcoreinfo.kernelOffset, note: d.source };
      }
    } catch (e) {
      src = { ranges: null, note: `inline ranges not loaded: ${(e as Error).message}` };
    }
  return src;
  });
}

/**
 * The inlined functions at `pc`, innermost first; [] when none or unknown. A pc inside module
 * `module` is looked up in that module's DWARF (src/kernel/module/debug.ts), which is read only
 * when vmlinux's DWARF is in use: with BTF there is no inline information anywhere.
 */
export function inlinedFunctionsAt(vm: KernelContext, pc: bigint, module?: string): string[] {
  const src = inlineSource(vm);
  if (!src.ranges) return [];
  if (module !== undefined) return chain(moduleInlinedAt(vm, module, pc));
  return chain(src.ranges.inlinedAt((pc - src.offset) & 0xffff_ffff_ffff_ffffn));
}

/**
 * Ranges containing a pc, outermost first, as one nesting chain (depth 1, 2, ...). A range that
 * does not continue the chain (a second range at a depth already taken) would be an index fault;
 * the chain stops there rather than naming frames in the wrong order.
 */
function chain(ranges: readonly InlineRange[]): string[] {
  const out: string[] = [];
  for (const r of ranges) {
    if (r.depth !== out.length + 1) break;
    out.push(r.name);
  }
  return out.reverse();
}

/**
 * `frames` with each kernel frame preceded by its inlined functions (innermost first): vmlinux
 * frames from vmlinux's DWARF, module frames from the module's (when its .ko is found). They share
 * the physical frame's pc, sp, method and reliability; an interrupt boundary moves to the first
 * frame of the group, where the interrupted context begins. User frames stay as they are.
 */
export function withInlinedFrames(vm: KernelContext, frames: readonly StackFrame[]): StackFrame[] {
  const out: StackFrame[] = [];
  for (const f of frames) {
    if (f.user || f.inlined || f.function === undefined) { out.push(f); continue; }
    // a return address's call is at pc - 1, as for the symbol
    const names = inlinedFunctionsAt(vm, f.returnAddress ? f.pc - 1n : f.pc, f.module);
    if (names.length === 0) { out.push(f); continue; }
    const { boundary, ...physical } = f;
    names.forEach((name, i) => {
      const g: StackFrame = { pc: f.pc, sp: f.sp, function: name, text: name, method: f.method, reliable: f.reliable, inlined: true };
      if (f.module !== undefined) g.module = f.module;
      if (f.returnAddress) g.returnAddress = true;
      if (i === 0 && boundary) g.boundary = boundary;
      out.push(g);
    });
    out.push(physical);
  }
  return out;
}
