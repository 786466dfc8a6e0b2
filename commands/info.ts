/** vaat info: what a person wants to know about a dump before analysing it. */
import { defineCommand, scriptPrelude } from '../src/plugin.js';
import { excludedPageClasses } from '../src/dump/levels.js';
import { humanBytes } from '../src/output/style.js';
import { panicCpu } from '../src/kernel/panic.js';
import type { Vmcore } from '../src/vmcore.js';

/** the panicking CPU, or null when the dump cannot tell (a truncated dump, no symbols) */
function knownPanicCpu(vm: Vmcore): { cpu: number; source: string } | null {
  try { return panicCpu(vm); } catch { return null; }
}

export interface InfoResult {
  file: string;
  fileSize: number;
  format: string;
  container: string | null;
  backend: string;
  codec: string;
  dumpLevel: number | null;
  excludedClasses: string[];
  arch: string;
  release: string | null;
  buildId: string | null;
  nodename: string | null;
  crashTime: { unix: number; utc: string } | null;
  cpus: number;
  memorySize: number;
  pageSize: number;
  pages: { present: number | null; excluded: number | null };
  truncated: boolean;
  warnings: string[];
  /** the CPU that panicked and how it was found (panic_cpu, crashing_cpu, the log, PRSTATUS); null when unknown */
  panicCpu: { cpu: number; source: string } | null;
  /** where kernel symbols and types come from (kallsyms/BTF in the dump, System.map, vmlinux ...) */
  sources: { symbols: string; types: string };
}

export default defineCommand<{ json?: boolean }, InfoResult>({
  name: 'info',
  summary: 'format, codec, dump level, kernel and crash time of a dump',
  run({ vm }) {
    const a = vm.dump.attrs;
    const vi = vm.vmcoreinfo;
    const ct = vi.crashTime;
    return {
      file: vm.file,
      fileSize: a.fileSize,
      format: a.format,
      container: a.container,
      backend: a.backend,
      codec: a.codec,
      dumpLevel: a.dumpLevel,
      excludedClasses: excludedPageClasses(a.dumpLevel),
      arch: a.arch,
      release: vi.osrelease ?? a.uts?.release ?? null,
      buildId: vi.buildId ?? null,
      nodename: a.uts?.nodename || null,
      crashTime: ct === undefined ? null : { unix: ct, utc: new Date(ct * 1000).toISOString().replace('.000Z', 'Z') },
      cpus: a.nrCpus,
      // RAM the dump knows of (dumped or excluded pages); kdump's /proc/vmcore omits the crashkernel area
      memorySize: a.pagesPresent !== null && a.pagesExcluded !== null ? (a.pagesPresent + a.pagesExcluded) * a.pageSize : a.memorySize,
      pageSize: a.pageSize,
      pages: { present: a.pagesPresent, excluded: a.pagesExcluded },
      truncated: a.truncated,
      warnings: a.warnings,
      sources: vm.sources(),
      panicCpu: knownPanicCpu(vm),
    };
  },
  script({ file }) {
    return `${scriptPrelude(file)}const a = vm.dump.attrs;
console.log(a.format, a.container ?? '', a.codec, 'dump level', a.dumpLevel);
const t = vm.vmcoreinfo.crashTime; // CRASHTIME=, seconds since the epoch; absent in some dumps: unknown, never 1970
console.log(vm.vmcoreinfo.osrelease, vm.vmcoreinfo.buildId, t === undefined ? 'unknown' : new Date(t * 1000).toISOString().replace('.000Z', 'Z'));
console.log(vm.sources());
`;
  },
  render(r, out) {
    const c = out.c;
    out.kv([
      ['FILE', r.file],
      ['SIZE', `${humanBytes(r.fileSize)} (${r.fileSize} bytes)`],
      ['FORMAT', r.container ? `${r.format} in a ${r.container} container` : r.format],
      ['CODEC', r.codec],
      ['DUMP LEVEL', r.dumpLevel === null ? 'not recorded (unfiltered or ELF)' : `${r.dumpLevel}${r.excludedClasses.length ? ` (excluded: ${r.excludedClasses.join(', ')})` : ' (nothing excluded)'}`],
      ['RELEASE', r.release],
      ['BUILD-ID', r.buildId],
      ['NODENAME', r.nodename],
      ['MACHINE', r.arch],
      ['CRASH TIME', r.crashTime ? `${r.crashTime.utc} (${r.crashTime.unix})` : null],
      ['CPUS', r.cpus],
      ['PANIC CPU', r.panicCpu ? `${r.panicCpu.cpu} (from ${r.panicCpu.source})` : null],
      ['MEMORY', humanBytes(r.memorySize)],
      ['PAGE SIZE', r.pageSize],
      ['PAGES', r.pages.present === null ? null : `${r.pages.present} present, ${r.pages.excluded ?? '?'} excluded`],
      ['READER', r.backend],
      ['SYMBOLS', r.sources.symbols],
      ['TYPES', r.sources.types],
    ]);
    if (r.truncated) out.line(c.red('  this dump is truncated: pages past the end of the file cannot be read'));
    for (const w of r.warnings) out.line(c.yellow(`  warning: ${w}`));
  },
});
