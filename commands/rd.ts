/** vaat rd: read memory at an address, as crash's `rd` does (hex dump with ASCII). */
import { defineCommand } from '../src/plugin.js';
import { hex } from '../src/output/style.js';
import { NotFoundError, UsageError } from '../src/errors/index.js';

interface RdOptions { physical?: boolean; count?: string; json?: boolean }
interface RdResult { address: string; space: 'virtual' | 'physical'; bytes: string }

/** parse a user-written address: 0x-prefixed or bare hex, or a VMCOREINFO symbol name */
export function parseAddress(text: string, symbol: (name: string) => bigint | undefined): bigint {
  if (/^(0x)?[0-9a-f]+$/i.test(text)) return BigInt(text.startsWith('0x') ? text : '0x' + text);
  const a = symbol(text);
  if (a === undefined) throw new NotFoundError(`unknown symbol or address '${text}'`);
  return a;
}

export default defineCommand<RdOptions, RdResult>({
  name: 'rd',
  summary: 'read memory at a virtual (or -p physical) address and show it as hex',
  args: '<address|symbol>',
  options: [
    { flags: '-p, --physical', description: 'the address is physical' },
    { flags: '-n, --count <bytes>', description: 'how many bytes', default: '64' },
  ],
  run({ vm, args, options }) {
    if (!args[0]) throw new UsageError('rd needs an address');
    const addr = parseAddress(args[0], (n) => vm.vmcoreinfo.symbol(n));
    const len = Number.parseInt(options.count ?? '64', 10);
    if (!(len > 0 && len <= 1 << 20)) throw new UsageError(`bad byte count '${options.count}': want 1 to ${1 << 20}`);
    const buf = options.physical ? vm.dump.readPhys(addr, len) : vm.dump.readVirt(addr, len);
    return { address: hex(addr), space: options.physical ? 'physical' : 'virtual', bytes: buf.toString('hex') };
  },
  render(r, out) {
    const buf = Buffer.from(r.bytes, 'hex');
    const base = BigInt(r.address);
    for (let off = 0; off < buf.length; off += 16) {
      const row = buf.subarray(off, off + 16);
      const words: string[] = [];
      for (let i = 0; i + 8 <= row.length; i += 8) words.push(row.readBigUInt64LE(i).toString(16).padStart(16, '0'));
      const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
      out.line(`${(base + BigInt(off)).toString(16)}:  ${words.join(' ').padEnd(33)}  ${out.c.dim(ascii)}`);
    }
  },
});
