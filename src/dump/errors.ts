/**
 * The dump layer's errors: the typed classes of the one error contract (src/errors/), and the
 * mapping from the addon's error codes to them.
 */
import { constants } from 'node:os';
import {
  AddressNotMappedError, CorruptDumpError, DumpIOError, ExcludedPageError, NotADumpError, TruncatedDumpError,
  UnsupportedFormatError, VaatError,
} from '../errors/index.js';

export {
  AddressNotMappedError, CorruptDumpError, DumpIOError, ExcludedPageError, NotADumpError, TruncatedDumpError,
  UnsupportedFormatError, VaatError,
} from '../errors/index.js';

// errno numbers by name (ENOENT...), as Node knows them for this platform
const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The symbolic name of an errno the addon reports as a number (EIO for 5); the number when unknown. */
export function errnoName(n: number): string {
  return ERRNO_NAMES.get(n) ?? String(n);
}

/** Turn an Error thrown by the addon (with .code) into the typed error for its cause. */
export function fromNative(err: unknown, file: string): Error {
  if (!(err instanceof Error)) return new VaatError(String(err), file);
  const e = err as Error & { code?: string; address?: bigint; errno?: number };
  const msg = e.message;
  switch (e.code) {
    case 'NOT_A_DUMP': return new NotADumpError(msg, file);
    case 'UNSUPPORTED': return new UnsupportedFormatError(msg, file);
    case 'TRUNCATED': return new TruncatedDumpError(msg, file);
    case 'CORRUPT': return new CorruptDumpError(msg, file, e.address !== undefined ? { address: BigInt(e.address) } : {});
    case 'EXCLUDED_PAGE': return new ExcludedPageError(msg, file, BigInt(e.address ?? 0n));
    case 'NOT_MAPPED': return new AddressNotMappedError(msg, file, BigInt(e.address ?? 0n));
    case 'IO': return new DumpIOError(msg, file, e.errno === undefined ? undefined : errnoName(e.errno));
    // an addon error without a code (e.g. std::bad_alloc) is not a fault of the input we foresaw: it stays untyped, a bug
    default: return err;
  }
}
