/** The built-in commands, in the order `vaat help` lists them. */
import type { VaatCommand } from '../src/plugin.js';
import info from './info.js';
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const builtinCommands: VaatCommand<any, any>[] = [info, sys, ps, log, mod, bt, stacks, runq, rd, struct, p, sym];
