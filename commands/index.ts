/** The built-in commands, in the order `vaat help` lists them. */
import type { VaatCommand } from '../src/plugin.js';
import info from './info.js';
import summary from './summary.js';
import rd from './rd.js';
import sys from './sys.js';
import ps from './ps.js';
import log from './log.js';
import mod from './mod.js';
import struct from './struct.js';
import p from './p.js';
import sym from './sym.js';
import runq from './runq.js';
import bt from './bt.js';
import stacks from './stacks.js';
import lockinfo from './lockinfo.js';
import tasktable from './tasktable.js';
import cgroupinfo from './cgroupinfo.js';
import cpuinfo from './cpuinfo.js';
import signature from './signature.js';
import triage from './triage.js';
import similar from './similar.js';
import report from './report.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const builtinCommands: VaatCommand<any, any>[] = [summary, info, sys, ps, log, mod, bt, stacks, runq, cgroupinfo, cpuinfo, rd, struct, p, sym, lockinfo, tasktable, signature, triage, similar, report];

/** a built-in command by name (`builtinCommand('ps').run({ vm, args, options })`); throws for an unknown name */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function builtinCommand(name: string): VaatCommand<any, any> {
  const c = builtinCommands.find((x) => x.name === name);
  if (!c) throw new Error(`no built-in command '${name}' (there are: ${builtinCommands.map((x) => x.name).join(', ')})`);
  return c;
}
