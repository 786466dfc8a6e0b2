/**
 * What an arm64 function's straight-line code refers to: globals reached by ADRP + ADD/LDR, the
 * per-CPU pattern `var + __per_cpu_offset[cpu]`, and the first argument of each call. A kernel
 * without CONFIG_KALLSYMS_ALL names no data in kallsyms, but its small helpers (idle_cpu,
 * get_taint...) still say where the data is. Only the handful of A64 encodings these patterns
 * use are decoded (Arm ARM, "A64 instruction set encoding"); control flow is ignored, so callers
 * verify every address they take from here against the data it should hold. (Kept with the
 * symbol sources, below the architecture seam: only derived.ts uses it.)
 */

export interface CodeRefs {
  /** addresses formed by ADRP + ADD (a global's address) or ADRP + LDR/STR (a global's value), in code order */
  readonly addresses: bigint[];
  /** the subset of those read or written by LDR/STR, with the access size in bytes */
  readonly loads: { address: bigint; size: number }[];
  /** `ldr xT, [array, wI, sxtw #3]` then `add xD, var, xT`: a per-CPU variable and the offset array */
  readonly perCpu: { variable: bigint; offsets: bigint }[];
  /** each BL with its target and the first argument (x0) when that was a known address */
  readonly calls: { target: bigint; x0: bigint | undefined }[];
}

const MASK64 = (1n << 64n) - 1n;

/** insn matches an encoding (unsigned: JS bit operators yield signed 32-bit results) */
const is = (insn: number, mask: number, value: number) => ((insn & mask) >>> 0) === value;

/** Decodes `code` (little-endian A64) as if loaded at `pc`. */
export function codeReferences(code: Uint8Array, pc: bigint): CodeRefs {
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  const regs = new Map<number, bigint>();      // register -> known address
  const loaded = new Map<number, bigint>();    // register -> array it was loaded from by index
  const out: CodeRefs = { addresses: [], loads: [], perCpu: [], calls: [] };
  const set = (r: number, v: bigint | undefined) => {
    loaded.delete(r);
    if (v === undefined) regs.delete(r);
    else regs.set(r, v & MASK64);
  };
  for (let i = 0; i + 4 <= code.length; i += 4) {
    const insn = view.getUint32(i, true);
    const at = pc + BigInt(i);
    const rd = insn & 31, rn = (insn >>> 5) & 31;
    if (is(insn, 0x9f000000, 0x90000000)) {
      // ADRP Xd, label: page of pc + signed 21-bit page count
      const imm = (((insn >>> 5) & 0x7ffff) << 2) | ((insn >>> 29) & 3);
      const pages = BigInt(imm >= 1 << 20 ? imm - (1 << 21) : imm);
      set(rd, (at & ~0xfffn) + (pages << 12n));
    } else if (is(insn, 0xff800000, 0x91000000)) {
      // ADD Xd, Xn, #imm12{, LSL #12}
      const base = regs.get(rn);
      const imm = BigInt((insn >>> 10) & 0xfff) << ((insn >>> 22) & 1 ? 12n : 0n);
      if (base !== undefined && rn !== 31) {
        const v = (base + imm) & MASK64;
        out.addresses.push(v);
        set(rd, v);
      } else set(rd, undefined);
    } else if (is(insn, 0x3b400000, 0x39400000) || is(insn, 0x3b400000, 0x39000000)) {
      // LDR/STR (unsigned immediate), any size: the offset is scaled by the access size
      const size = insn >>> 30;
      const base = regs.get(rn);
      if (base !== undefined && !(insn & 0x04000000)) {
        const address = (base + (BigInt((insn >>> 10) & 0xfff) << BigInt(size))) & MASK64;
        out.addresses.push(address);
        out.loads.push({ address, size: 1 << size });
      }
      if (insn & 0x00400000) set(rd, undefined); // a load overwrites Rt
    } else if (is(insn, 0xffe00400, 0xf8400400)) {
      // LDR Xt, [Xn, #simm9]! / [Xn], #simm9 (pre/post-index, writeback)
      const base = regs.get(rn);
      const raw = (insn >>> 12) & 0x1ff;
      const imm = BigInt(raw >= 256 ? raw - 512 : raw);
      const pre = (insn >>> 11) & 1;
      if (base !== undefined) {
        if (pre) out.addresses.push((base + imm) & MASK64);
        set(rn, base + imm);
      }
      set(rd, undefined);
    } else if (is(insn, 0xffe00c00, 0xf8600800)) {
      // LDR Xt, [Xn, Xm/Wm{, extend #3}]: an element of an array of 8-byte values
      const base = regs.get(rn);
      set(rd, undefined);
      if (base !== undefined && ((insn >>> 12) & 1)) loaded.set(rd, base);
    } else if (is(insn, 0xff200000, 0x8b000000)) {
      // ADD Xd, Xn, Xm (shifted register, no shift expected): variable + per-CPU offset
      const rm = (insn >>> 16) & 31;
      const a = regs.get(rn), b = regs.get(rm), la = loaded.get(rn), lb = loaded.get(rm);
      if (a !== undefined && lb !== undefined) out.perCpu.push({ variable: a, offsets: lb });
      else if (b !== undefined && la !== undefined) out.perCpu.push({ variable: b, offsets: la });
      set(rd, undefined);
    } else if (is(insn, 0xffe0ffe0, 0xaa0003e0)) {
      // MOV Xd, Xm (ORR Xd, XZR, Xm)
      const rm = (insn >>> 16) & 31;
      const v = regs.get(rm), l = loaded.get(rm);
      set(rd, v);
      if (l !== undefined) loaded.set(rd, l);
    } else if (is(insn, 0xfc000000, 0x94000000)) {
      // BL label: record the call; x0-x18 are the callee's to clobber
      const raw = insn & 0x3ffffff;
      const off = BigInt(raw >= 1 << 25 ? raw - (1 << 26) : raw) << 2n;
      out.calls.push({ target: (at + off) & MASK64, x0: regs.get(0) });
      for (let r = 0; r <= 18; r++) set(r, undefined);
    } else if (is(insn, 0x1f000000, 0x12000000) || is(insn, 0x1f000000, 0x11000000) || is(insn, 0x1f000000, 0x0b000000) ||
               is(insn, 0x1f000000, 0x0a000000) || is(insn, 0x1f800000, 0x12800000) || is(insn, 0x1f800000, 0x52800000)) {
      // other data-processing forms that write Rd (logical, add/sub, moves of immediates)
      if (rd !== 31) set(rd, undefined);
    }
  }
  return out;
}
