/**
 * One command's arguments and options parsed the way `vaat <command> <vmcore> ...` parses them,
 * for fleet runs: the parent checks them once, each worker parses the same argv again so a
 * command sees exactly what a single-dump run would give it (defaults, negations, camelCase).
 */
import { Command } from 'commander';
import type { VaatCommand } from '../src/plugin.js';
import type { OpenVmcoreOptions } from '../src/vmcore.js';
import { UsageError } from '../src/errors/index.js';

export type ParsedOptions = Record<string, unknown>;

/** the options every command takes, single-dump and fleet runs alike */
export function addCommonOptions(prog: Command): Command {
  return addOpenOptions(prog
    .option('--json', 'machine-readable output')
    .option('--jsonl', "JSON Lines: the command's list (ps tasks, tasktable rows, stacks groups, log records), one JSON object a line")
    .option('--plain', 'no colour')
    .option('--debug', 'on an internal error, print its stack')
    .option('--script', 'print a TypeScript program that computes the same with the vaat API'));
}

/** the options that say how to open a dump (a session takes them once, for all its commands) */
export function addOpenOptions(prog: Command): Command {
  return prog
    .option('--zero-excluded', 'read excluded pages as zeros instead of failing')
    .option('--reader <name>', "page reader: auto (vaat's own), vaat or libkdumpfile", 'auto')
    .option('--page-cache <MiB>', 'decoded pages kept in memory per open dump (default 16, or $VAAT_PAGE_CACHE_MB)')
    .option('--system-map <file>', "a System.map of the dump's kernel")
    .option('--btf <file>', "BTF to use instead of the BTF in the dump: a raw BTF file, or a vmlinux (its .BTF section)")
    .option('--vmlinux <file>', "a debug vmlinux: DWARF for types (checked against the dump's build-id), .symtab for symbols (cross-checked)")
    .option('--no-vmlinux', 'never look for a debug vmlinux in the standard places (types from BTF)')
    .option('--module-debug <dir>', 'a directory of module .ko files with DWARF (out-of-tree modules), searched before /usr/lib/debug/lib/modules/<release>; repeatable',
      (dir: string, prev: string[] = []) => [...prev, dir]);
}

/** the open options a command line set away from their defaults, as typed (`--vmlinux`) */
export function openOptionsGiven(options: ParsedOptions): string[] {
  const given: string[] = [];
  if (options.zeroExcluded) given.push('--zero-excluded');
  if (options.reader !== undefined && options.reader !== 'auto') given.push('--reader');
  if (options.pageCache !== undefined) given.push('--page-cache');
  if (options.systemMap !== undefined) given.push('--system-map');
  if (options.btf !== undefined) given.push('--btf');
  if (options.vmlinux !== undefined && options.vmlinux !== true) given.push(options.vmlinux === false ? '--no-vmlinux' : '--vmlinux');
  return given;
}

/** `--page-cache 64` → bytes; a usage error for anything but a number of MiB >= 0 */
function pageCacheMiB(text: string): number {
  const mb = Number(text);
  if (text.trim() === '' || !Number.isFinite(mb) || mb < 0) throw new UsageError(`--page-cache takes a number of MiB >= 0, not '${text}'`);
  return Math.floor(mb * 1024 * 1024);
}

/** what the common options say about opening a dump */
export function openOptionsFrom(options: ParsedOptions): OpenVmcoreOptions {
  return {
    zeroExcluded: !!options.zeroExcluded,
    ...(typeof options.reader === 'string' ? { backend: options.reader as OpenVmcoreOptions['backend'] } : {}),
    ...(typeof options.pageCache === 'string' ? { pageCacheBytes: pageCacheMiB(options.pageCache) } : {}),
    ...(typeof options.systemMap === 'string' ? { systemMap: options.systemMap } : {}),
    ...(typeof options.btf === 'string' ? { btf: options.btf } : {}),
    ...(typeof options.vmlinux === 'string' || options.vmlinux === false ? { vmlinux: options.vmlinux } : {}),
    ...(Array.isArray(options.moduleDebug) ? { moduleDebug: options.moduleDebug as string[] } : {}),
  };
}

export interface ParsedCommandArgv { args: string[]; options: ParsedOptions }

/** parse `argv` (the command's own args and options, no vmcore) for `spec`; throws CommanderError */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function parseCommandArgv(spec: VaatCommand<any, any>, argv: readonly string[], extra: (c: Command) => void = () => {}): ParsedCommandArgv {
  const prog = addCommonOptions(new Command(spec.name).argument('[args...]', spec.args ?? ''))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const o of spec.options ?? []) prog.option(o.flags, o.description, o.default as string | boolean | string[] | undefined);
  extra(prog);
  prog.parse([...argv], { from: 'user' });
  const [rest] = prog.processedArgs as [string[]];
  return { args: rest ?? [], options: prog.opts() };
}
