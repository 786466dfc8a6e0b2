/**
 * The dump layer's errors: the typed classes of the one error contract (src/errors/), and the
 * mapping from the addon's error codes to them.
 */
import {
  AddressNotMappedError, CorruptDumpError, DumpIOError, ExcludedPageError, NotADumpError, TruncatedDumpError,
  UnsupportedFormatError, VaatError,
} from '../errors/index.js';

export {
  AddressNotMappedError, CorruptDumpError, DumpIOError, ExcludedPageError, NotADumpError, TruncatedDumpError,
  UnsupportedFormatError, VaatError,
} from '../errors/index.js';

/** Turn an Error thrown by the addon (with .code) into the typed error for its cause. */
export function fromNative(err: unknown, file: string): Error {
  if (!(err instanceof Error)) return new VaatError(String(err), file);
  const e = err as Error & { code?: string; address?: bigint; errno?: string };
  const msg = e.message;
  switch (e.code) {
    case 'NOT_A_DUMP': return new NotADumpError(msg, file);
    case 'UNSUPPORTED': return new UnsupportedFormatError(msg, file);
    case 'TRUNCATED': return new TruncatedDumpError(msg, file);
    case 'CORRUPT': return new CorruptDumpError(msg, file, e.address !== undefined ? { address: BigInt(e.address) } : {});
    case 'EXCLUDED_PAGE': return new ExcludedPageError(msg, file, BigInt(e.address ?? 0n));
    case 'NOT_MAPPED': return new AddressNotMappedError(msg, file, BigInt(e.address ?? 0n));
    case 'IO': return new DumpIOError(msg, file, e.errno);
    // an addon error without a code (e.g. std::bad_alloc) is not a fault of the input we foresaw: it stays untyped, a bug
    default: return err;
  }
}
