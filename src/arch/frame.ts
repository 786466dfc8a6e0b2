/** One stack frame as every unwinder reports it: the pc named by the symbol tables. */
import type { KernelContext } from '../context.js';
import type { Boundary, StackFrame, UnwindMethod } from './arch.js';

/**
 * A frame at `pc`/`sp`. A return address points after its call, so it is looked up at pc - 1
 * (a call that ends a function still names that function); an exact pc (from saved registers) is not.
 */
export function stackFrame(
  vm: KernelContext, pc: bigint, sp: bigint, method: UnwindMethod, reliable: boolean,
  boundary: Boundary | undefined, user: boolean, returnAddress: boolean,
): StackFrame {
  const f: StackFrame = { pc, sp, text: `0x${pc.toString(16)}`, method, reliable };
  if (boundary) f.boundary = boundary;
  if (user) { f.user = true; return f; }
  const bias = returnAddress ? 1n : 0n;
  if (returnAddress) f.returnAddress = true;
  const s = vm.symbols.symbolize(pc - bias);
  if (s) {
    f.function = s.name;
    f.offset = s.offset + Number(bias);
    f.size = s.size;
    if (s.module !== undefined) f.module = s.module;
    f.text = `${s.name}+0x${f.offset.toString(16)}/0x${s.size.toString(16)}${s.module !== undefined ? ` [${s.module}]` : ''}`;
  }
  return f;
}
