/** The built-in commands, in the order `vaat help` lists them. */
import type { VaatCommand } from '../src/plugin.js';
import info from './info.js';
import rd from './rd.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const builtinCommands: VaatCommand<any, any>[] = [info, rd];
