/**
 * Vmcore: the object `openVmcore()` returns and every command receives. It owns the Dump and
 * lazily loads what analyses need (symbols, types, kernel model) on first use.
 */
import { Dump, type OpenDumpOptions } from './dump/dump.js';
import type { VmcoreInfo } from './dump/vmcoreinfo.js';

export interface OpenVmcoreOptions extends OpenDumpOptions {}

export class Vmcore {
  constructor(readonly dump: Dump) {}

  get file(): string { return this.dump.file; }
  get vmcoreinfo(): VmcoreInfo { return this.dump.vmcoreinfo; }

  close(): void { this.dump.close(); }
}

/** Open a vmcore read-only. Throws a typed error (see src/dump/errors.ts) naming the file. */
export function openVmcore(file: string, opts: OpenVmcoreOptions = {}): Vmcore {
  return new Vmcore(Dump.open(file, opts));
}
