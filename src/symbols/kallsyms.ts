/**
 * The kernel's own symbol table (kallsyms), read from the dump's memory. The tables come from
 * VMCOREINFO when it lists them (6.5+, or a backport), otherwise from a shape scan of the
 * image's .rodata (kallsyms-scan.ts). Either way the result must *prove* itself: decoded
 * addresses of the symbols VMCOREINFO names (_stext, init_uts_ns, prb, ...) must equal
 * VMCOREINFO's, which also settles the address encoding (kallsyms-layout.ts AddressRule).
 */
import { VaatError } from '../dump/errors.js';
import type { MemoryReader } from '../dump/dump.js';
import type { VmcoreInfo } from '../dump/vmcoreinfo.js';
import { decodeAddresses, expandNames, isSorted, readAddressTable, readTokens, rulesFor, walkNames } from './kallsyms-decode.js';
import type { AddressRule, KallsymsLayout, TokenTable } from './kallsyms-layout.js';
import { scanKallsyms } from './kallsyms-scan.js';
import { PageCache } from './page-cache.js';
import { SortedSymbolTable, type SymbolColumns } from './symtab.js';
import { nowMs } from '../clock.js';

export type KallsymsMethod = 'vmcoreinfo' | 'rodata-scan';

export interface KallsymsProof {
  /** VMCOREINFO symbols whose kallsyms address equals VMCOREINFO's */
  matched: string[];
  /**
   * VMCOREINFO symbols kallsyms places elsewhere, e.g. SYMBOL(mem_section), which VMCOREINFO
   * gives as the pointer's value; in a scan also kallsyms_* tables found away from VMCOREINFO's entry
   */
  mismatched: { name: string; vmcoreinfo: bigint; kallsyms: bigint }[];
  /** VMCOREINFO symbols kallsyms does not have */
  missing: string[];
  /**
   * scan only: tables found by shape that agree with another record of them — VMCOREINFO's
   * SYMBOL(kallsyms_*) when present ('kallsyms_names=VMCOREINFO'), or kallsyms' own entry
   */
  selfConsistent: string[];
}

export interface KallsymsOptions {
  /** 'auto' (default): VMCOREINFO's table locations when present, else the scan */
  method?: 'auto' | KallsymsMethod;
  /** bytes above _stext the scan may read (default 64 MiB) */
  scanLimit?: number;
}

export class KallsymsError extends VaatError {}

export class KallsymsTable extends SortedSymbolTable {
  constructor(
    source: string,
    symbols: SymbolColumns,
    readonly method: KallsymsMethod,
    readonly layout: KallsymsLayout,
    readonly rule: AddressRule,
    readonly proof: KallsymsProof,
    /** wall time of finding + decoding, ms */
    readonly elapsedMs: number,
    /** pages read from the dump */
    readonly pagesRead: number,
    /** the columns are the table's own (SortedTableOptions.adopt) */
    adopt = false,
  ) {
    // the last symbol (_end or so) gets size 0: nothing past the image symbolizes to it
    super(source, symbols, { sizes: 'next', adopt });
    // Counted from the end, where the data, rodata and bss symbols are (kallsyms is in address
    // order, text first): the count is the same, found in a few hundred steps instead of a pass
    // over ~90k text symbols at every start.
    let data = 0;
    const types = symbols.types;
    for (let i = types.length - 1; i >= 0; i--) if (DATA_TYPES.has(types[i]) && ++data > ALL_SYMBOLS_MIN_DATA) break;
    this.hasDataSymbols = data > ALL_SYMBOLS_MIN_DATA;
  }

  /**
   * Whether the kernel was built with CONFIG_KALLSYMS_ALL: without it kallsyms holds only text
   * (plus a few section markers such as _etext), so globals like init_task must come from
   * another source (Debian's arm64 cloud kernel is built so).
   */
  readonly hasDataSymbols: boolean;
}

const DATA_TYPES = new Set(['D', 'd', 'B', 'b', 'R', 'r']);
/** a kernel without KALLSYMS_ALL still lists a handful of markers; with it there are tens of thousands */
const ALL_SYMBOLS_MIN_DATA = 200;
/** where a fallback scan looks around VMCOREINFO's kallsyms_names: the token index follows the names (a few MB) */
const BEFORE_LISTED = 64n << 10n;
const AFTER_LISTED = 4n << 20n;

const TABLE_SYMBOLS = ['kallsyms_names', 'kallsyms_num_syms', 'kallsyms_token_table', 'kallsyms_token_index', 'kallsyms_offsets', 'kallsyms_relative_base', 'kallsyms_addresses', 'kallsyms_markers'];

export function findKallsyms(mem: MemoryReader, info: VmcoreInfo, opts: KallsymsOptions = {}): KallsymsTable {
  const t0 = nowMs();
  const cache = new PageCache(mem);
  const method = opts.method ?? 'auto';
  const anchors = vmcoreinfoSymbols(info);

  let layout: KallsymsLayout | undefined;
  let decoded: Decoded | undefined;
  let m: KallsymsMethod = 'vmcoreinfo';
  let fallback = '';
  let listed = false;
  if (method !== 'rodata-scan') {
    try {
      const fromInfo = layoutFromVmcoreinfo(cache, info);
      listed = !!fromInfo;
      if (!fromInfo) {
        throw new KallsymsError('VMCOREINFO does not list the kallsyms tables (SYMBOL(kallsyms_names) etc., which older kernels lack)');
      }
      const names = readNames(cache, fromInfo.names, fromInfo.numSyms, fromInfo.tokens, fromInfo.tokenTable);
      const d = settleAddresses(cache, [{ addressTable: fromInfo.addressTable }], fromInfo.numSyms, names, anchors, undefined);
      if (!d) throw new KallsymsError('kallsyms tables from VMCOREINFO do not decode to VMCOREINFO\'s own symbol addresses');
      layout = { numSyms: fromInfo.numSyms, numSymsAt: fromInfo.numSymsAt, names: fromInfo.names, tokenTable: fromInfo.tokenTable, tokenIndex: fromInfo.tokenIndex, addressTable: fromInfo.addressTable };
      decoded = d;
    } catch (err) {
      // 'auto' falls back to the scan; an explicit 'vmcoreinfo' request reports why it failed
      if (method === 'vmcoreinfo' || !(err instanceof Error)) throw err;

      fallback = `; VMCOREINFO tables unusable: ${err.message}`;
    }
  }
  if (!layout || !decoded) {
    m = 'rodata-scan';
    const stext = anchors.get('_stext') ?? anchors.get('_text');
    if (stext === undefined) throw new KallsymsError('cannot scan for kallsyms: VMCOREINFO has no SYMBOL(_stext)');
    // The kernel listed its tables and they did not decode: damaged memory or a damaged note. The
    // scan then looks only near where the kernel said (a few bytes of damage must not cost a scan
    // of the whole image, tens of MB, in every fleet worker); unlisted tables are looked for everywhere.
    const listedAt = listed ? info.symbol('kallsyms_names') : undefined;
    const near = listedAt !== undefined && listedAt > stext
      ? { imageStart: listedAt - BEFORE_LISTED > stext ? listedAt - BEFORE_LISTED : stext, pivot: listedAt, limit: Number(BEFORE_LISTED + AFTER_LISTED) }
      : undefined;
    const scan = scanKallsyms(cache, near ?? { imageStart: stext, pivot: dataPivot(anchors, stext), ...(opts.scanLimit !== undefined ? { limit: opts.scanLimit } : {}) });
    const tokens = readTokens(cache, scan.layout);
    const names = readNames(cache, scan.layout.names, scan.layout.numSyms, tokens, scan.layout.tokenTable);
    const found: Record<string, bigint> = {
      kallsyms_names: scan.layout.names,
      kallsyms_token_table: scan.layout.tokenTable,
      kallsyms_token_index: scan.layout.tokenIndex,
      ...(scan.layout.markers !== undefined ? { kallsyms_markers: scan.layout.markers } : {}),
      ...(scan.layout.numSymsAt !== undefined ? { kallsyms_num_syms: scan.layout.numSymsAt } : {}),
    };
    const d = settleAddresses(cache, scan.addressCandidates, scan.layout.numSyms, names, anchors, found);
    if (!d) {
      throw new KallsymsError(
        `kallsyms names found at 0x${scan.layout.names.toString(16)} (${scan.layout.numSyms} symbols) but no address table decodes to VMCOREINFO's symbol addresses`,
      );
    }
    layout = { ...scan.layout, ...d.candidate };
    decoded = d;
  }

  const { names, types } = decoded.names;
  const symbols: SymbolColumns = { names, types, addresses: decoded.addrs };
  const p = decoded.proof;
  const source = `kallsyms (${m}; proof: ${p.matched.join(', ')}${p.selfConsistent.length ? `; tables: ${p.selfConsistent.join(', ')}` : ''}${fallback})`;
  return new KallsymsTable(source, symbols, m, layout, decoded.rule, p, nowMs() - t0, cache.fetched);
}

/** SYMBOL(...) lines of VMCOREINFO */
function vmcoreinfoSymbols(info: VmcoreInfo): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const key of info.lines.keys()) {
    const m = /^SYMBOL\((.+)\)$/.exec(key);
    if (!m) continue;
    const a = info.symbol(m[1]);
    if (a !== undefined) out.set(m[1], a);
  }
  return out;
}

/** lowest VMCOREINFO data symbol inside the image: .rodata (and kallsyms) lies below it */
function dataPivot(anchors: Map<string, bigint>, stext: bigint): bigint | undefined {
  let best: bigint | undefined;
  for (const [name, a] of anchors) {
    if (name === '_stext' || name === '_text' || TABLE_SYMBOLS.includes(name)) continue;
    if (a > stext && a - stext < 1n << 30n && (best === undefined || a < best)) best = a;
  }
  return best;
}

interface InfoLayout extends Omit<KallsymsLayout, 'order'> { tokens: TokenTable }

function layoutFromVmcoreinfo(cache: PageCache, info: VmcoreInfo): InfoLayout | undefined {
  const names = info.symbol('kallsyms_names');
  const numAt = info.symbol('kallsyms_num_syms');
  const tokenTable = info.symbol('kallsyms_token_table');
  const tokenIndex = info.symbol('kallsyms_token_index');
  const offsets = info.symbol('kallsyms_offsets');
  const relativeBase = info.symbol('kallsyms_relative_base');
  const addresses = info.symbol('kallsyms_addresses');
  if (names === undefined || numAt === undefined || tokenTable === undefined || tokenIndex === undefined) return undefined;
  let addressTable: KallsymsLayout['addressTable'];
  if (offsets !== undefined && relativeBase !== undefined) addressTable = { kind: 'offsets', offsets, relativeBase };
  else if (addresses !== undefined) addressTable = { kind: 'addresses', addresses };
  else return undefined;
  const nb = cache.read(numAt, 4);
  if (!nb) throw new KallsymsError(`kallsyms_num_syms at 0x${numAt.toString(16)} is not in the dump`);
  const numSyms = nb.readUInt32LE(0);
  const tokens = readTokens(cache, { tokenTable, tokenIndex });
  return { numSyms, numSymsAt: numAt, names, tokenTable, tokenIndex, addressTable, tokens };
}

/**
 * read and expand the names table, growing the read until N entries fit. The table ends before
 * the token table (scripts/kallsyms writes names, markers, then tokens), so a damaged count never
 * reads past it: a few wrong bytes in kallsyms_num_syms cost at most the table's own size.
 */
function readNames(cache: PageCache, at: bigint, n: number, tokens: TokenTable, tokenTable: bigint): { names: string[]; types: string[] } {
  const max = tokenTable > at ? Math.min(n * 1030, Number(tokenTable - at)) : n * 1030;
  for (let len = Math.min(max, Math.max(4096, n * 12)); ; len = Math.min(max, len * 2)) {
    const buf = cache.read(at, len) ?? cache.region(at & ~4095n, len + Number(at & 4095n)).buf.subarray(Number(at & 4095n));
    if (walkNames(buf, 0, n) >= 0) return expandNames(buf, 0, n, tokens);
    if (len >= max) break;
  }
  throw new KallsymsError(`kallsyms_names at 0x${at.toString(16)} does not hold ${n} entries`);
}

interface Decoded {
  names: { names: string[]; types: string[] };
  addrs: BigUint64Array;
  rule: AddressRule;
  proof: KallsymsProof;
  candidate: Pick<KallsymsLayout, 'addressTable' | 'order'>;
}

/** the first (placement, rule) whose addresses are sorted and prove themselves against VMCOREINFO */
function settleAddresses(
  cache: PageCache,
  candidates: Pick<KallsymsLayout, 'addressTable' | 'order'>[],
  n: number,
  names: { names: string[]; types: string[] },
  anchors: Map<string, bigint>,
  /** scan only: where the tables were found by shape (undefined: the locations came from VMCOREINFO) */
  found: Record<string, bigint> | undefined,
): Decoded | undefined {
  const index = new Map<string, number>();
  for (let i = 0; i < names.names.length; i++) if (!index.has(names.names[i])) index.set(names.names[i], i);
  for (const candidate of candidates) {
    const raw = readAddressTable(cache, candidate.addressTable, n);
    if (!raw) continue;
    for (const rule of rulesFor(raw)) {
      const addrs = decodeAddresses(raw, rule);
      if (!isSorted(addrs)) continue;
      const t = candidate.addressTable;
      const where: Record<string, bigint> = t.kind === 'offsets'
        ? { kallsyms_offsets: t.offsets, kallsyms_relative_base: t.relativeBase }
        : { kallsyms_addresses: t.addresses };
      const proof = prove(addrs, index, anchors, found ? { ...found, ...where } : {});
      if (proof) return { names, addrs, rule, proof, candidate };
    }
  }
  return undefined;
}

function prove(addrs: BigUint64Array, index: Map<string, number>, anchors: Map<string, bigint>, found: Record<string, bigint>): KallsymsProof | undefined {
  const proof: KallsymsProof = { matched: [], mismatched: [], missing: [], selfConsistent: [] };
  for (const [name, want] of anchors) {
    if (TABLE_SYMBOLS.includes(name)) {
      // scripts/kallsyms leaves its own tables out of kallsyms; what VMCOREINFO says about them
      // is checked against where the scan found them instead
      // (a disagreement counts against the proof but does not veto it: 'auto' scans precisely
      // when VMCOREINFO's table entries proved unusable)
      const at = found[name];
      if (at === undefined) continue;
      if (at !== want) proof.mismatched.push({ name, vmcoreinfo: want, kallsyms: at });
      else proof.selfConsistent.push(`${name}=VMCOREINFO`);
      continue;
    }
    const i = index.get(name);
    if (i === undefined) { proof.missing.push(name); continue; }
    if (addrs[i] === want) proof.matched.push(name);
    else proof.mismatched.push({ name, vmcoreinfo: want, kallsyms: addrs[i] });
  }
  for (const [name, at] of Object.entries(found)) {
    const i = index.get(name);
    if (i === undefined || anchors.has(name)) continue;
    if (addrs[i] !== at) return undefined; // a table found by shape sits where kallsyms says it does, or the find is wrong
    proof.selfConsistent.push(name);
  }
  // _stext is the one anchor every VMCOREINFO has and that is a plain address; the others must
  // mostly agree too (array symbols like mem_section may legitimately be pointer values).
  if (anchors.has('_stext') && !proof.matched.includes('_stext')) return undefined;
  if (proof.matched.length === 0 || proof.mismatched.length >= proof.matched.length) return undefined;
  return proof;
}
