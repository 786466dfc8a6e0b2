/**
 * A System.map (`nm -n vmlinux` output): link-time addresses, so the dump's KASLR slide
 * (VMCOREINFO KERNELOFFSET) is added to every address inside the kernel image. Per-CPU symbols
 * (small absolute values on x86_64) and absolute ('A'/'a') symbols are not relocated.
 */
import { VaatError } from '../dump/errors.js';
import { readFileSync } from 'node:fs';
import { SortedSymbolTable, type KernelSymbol } from './symtab.js';

export class SystemMapError extends VaatError {}

export interface SystemMapOptions {
  /** KASLR slide to add (VMCOREINFO KERNELOFFSET) */
  kernelOffset: bigint;
  /** name for the source string (default: the path) */
  label?: string;
  /**
   * slide absolute symbols in the kernel half too: arm64 links its relocatable kernel as a PIE,
   * and the linker's absolute symbols there (__kvm_nvhe___bss_start...) are image addresses
   */
  relocateAbsolute?: boolean;
}

/** addresses at or above this are kernel-image (relocatable) addresses; below: per-CPU offsets or absolutes */
const KERNEL_HALF = 0x8000000000000000n;

export function parseSystemMap(text: string, opts: SystemMapOptions & { label: string }): SortedSymbolTable {
  const syms: KernelSymbol[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const m = /^([0-9a-fA-F]+)\s+(\S)\s+(\S+)/.exec(line);
    if (!m) throw new SystemMapError(`${opts.label}:${i + 1}: not a System.map line: ${JSON.stringify(line.slice(0, 80))}`);
    const link = BigInt('0x' + m[1]);
    const type = m[2];
    const relocate = link >= KERNEL_HALF && (opts.relocateAbsolute || (type !== 'A' && type !== 'a'));
    syms.push({ name: m[3], address: relocate ? (link + opts.kernelOffset) & 0xffffffffffffffffn : link, type });
  }
  if (syms.length === 0) throw new SystemMapError(`${opts.label}: no symbols`);
  const off = opts.kernelOffset === 0n ? '' : ` +0x${opts.kernelOffset.toString(16)}`;
  return new SortedSymbolTable(`System.map (${opts.label}${off})`, syms, { sizes: 'next' });
}

export function loadSystemMap(path: string, opts: SystemMapOptions): SortedSymbolTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SystemMapError(`cannot read System.map ${path}: ${(err as Error).message}`);
  }
  return parseSystemMap(text, { ...opts, label: opts.label ?? path });
}
