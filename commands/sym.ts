/** vaat sym: symbol to address and back (`func+0x1a/0x40 [module]`). */
import { defineCommand, scriptPrelude } from '../src/plugin.js';
import { hex } from '../src/output/style.js';
import { NotFoundError, UsageError } from '../src/errors/index.js';

interface SymResult {
  query: string;
  address: string;
  name: string | null;
  offset: number | null;
  size: number | null;
  type: string | null;
  module: string | null;
  text: string;
  source: string;
}

export default defineCommand<Record<string, never>, SymResult[]>({
  name: 'sym',
  summary: 'symbol to address, or address to symbol+offset',
  args: '<name|address...>',
  run({ vm, args }) {
    if (!args.length) throw new UsageError('sym needs a symbol name or an address');
    const syms = vm.symbols;
    return args.map((q): SymResult => {
      if (/^(0x)?[0-9a-f]{8,16}$/i.test(q)) {
        const addr = BigInt(q.startsWith('0x') ? q : '0x' + q);
        const s = syms.symbolize(addr);
        return {
          query: q, address: hex(addr), name: s?.name ?? null, offset: s?.offset ?? null, size: s?.size ?? null,
          type: null, module: s?.module ?? null, text: vm.symbolize(addr), source: syms.source,
        };
      }
      const s = syms.lookup(q);
      if (!s) throw new NotFoundError(`symbol '${q}' not found (${syms.source})`);
      return {
        query: q, address: hex(s.address), name: s.name, offset: 0, size: s.size ?? null, type: s.type,
        module: s.module ?? null, text: vm.symbolize(s.address), source: syms.source,
      };
    });
  },
  script({ file, args }) {
    return `${scriptPrelude(file)}for (const q of ${JSON.stringify(args)}) {
  if (/^(0x)?[0-9a-f]{8,16}$/i.test(q)) console.log(vm.symbolize(BigInt(q.startsWith('0x') ? q : '0x' + q)));
  else console.log(q, '0x' + vm.address(q).toString(16));
}
`;
  },
  render(rows, out) {
    out.table(rows.map((r) => [r.address, r.type ?? '', r.text]), { header: ['ADDRESS', 'TYPE', 'SYMBOL'] });
  },
});
