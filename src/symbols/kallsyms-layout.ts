/**
 * Where a kernel's kallsyms tables sit, and the rules for reading them, as emitted by the kernel's
 * scripts/kallsyms.c. The order of the tables in .rodata changed over time:
 *
 *   up to 6.1 (upstream):  offsets|addresses, relative_base, num_syms, names, markers, token_table, token_index
 *   6.2–6.3:               ... names, markers, seqs_of_names, token_table, token_index
 *                          (kallsyms_seqs_of_names: "kallsyms: Improve the performance of
 *                          kallsyms_lookup_name()", 6.2; 3 bytes per symbol. Also backported to
 *                          some 6.1 stable kernels, e.g. Debian's 6.1.190 — so a version number
 *                          alone cannot pick the layout; the scanner reads the shape instead.)
 *   6.4+:                  num_syms, names, markers, token_table, token_index,
 *                          offsets|addresses, relative_base, seqs_of_names
 *                          ("scripts/kallsyms: change the output order", 6.4)
 *
 * In every variant num_syms directly precedes names, markers directly follow names, and
 * token_index directly follows token_table, which is what the scanner relies on.
 */

/** how an entry of the address table becomes an address */
export type AddressRule =
  /** CONFIG_KALLSYMS_BASE_RELATIVE=n: kallsyms_addresses[] holds plain addresses (u64) */
  | 'absolute'
  /** base-relative without absolute per-CPU: relative_base + (u32)offset */
  | 'relative'
  /**
   * CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86_64 SMP until the per-CPU rework removed it):
   * offset >= 0 is an absolute value (per-CPU symbols), offset < 0 means relative_base - 1 - offset
   */
  | 'relative-absolute-percpu';

export interface KallsymsLayout {
  numSyms: number;
  /** address of kallsyms_num_syms, when known */
  numSymsAt?: bigint;
  names: bigint;
  /** kallsyms_markers (offset of every 256th name); absent when VMCOREINFO gave the tables without it */
  markers?: bigint;
  markerWidth?: 4 | 8;
  /** kallsyms_seqs_of_names, when the scan saw it between markers and token_table (6.2–6.3 order) */
  seqsOfNames?: bigint;
  tokenTable: bigint;
  tokenIndex: bigint;
  /** kallsyms_offsets (s32 each) with kallsyms_relative_base, or kallsyms_addresses (u64 each) */
  addressTable: { kind: 'offsets'; offsets: bigint; relativeBase: bigint } | { kind: 'addresses'; addresses: bigint };
  /** 'offsets-first': addresses before num_syms (≤6.3); 'offsets-last': after token_index (6.4+) */
  order?: 'offsets-first' | 'offsets-last';
}

/** one name table entry's length: one byte, or two (ULEB128) when the high bit is set ("big" symbols, 6.1) */
export function entryLength(buf: Buffer, off: number): { len: number; hdr: number } {
  const b0 = buf[off];
  if (b0 & 0x80) return { len: (b0 & 0x7f) | (buf[off + 1] << 7), hdr: 2 };
  return { len: b0, hdr: 1 };
}

/** the 256 tokens of kallsyms_token_table, indexed by byte value */
export type TokenTable = readonly string[];
