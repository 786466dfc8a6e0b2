/**
 * Typed errors for everything that can go wrong reading a dump. One class per cause, so callers
 * can `instanceof` them; every message names the file and the fault on one line.
 */
export class VaatError extends Error {
  constructor(message: string, readonly file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = new.target.name;
  }
}
/** The file is not a vmcore in any format we know. */
export class NotADumpError extends VaatError {}
/** A dump, but a variant, codec or architecture we cannot read. */
export class UnsupportedFormatError extends VaatError {}
/** The file ends before data its headers promise (e.g. makedumpfile's vmcore-incomplete). */
export class TruncatedDumpError extends VaatError {}
/** A header, descriptor or compressed block fails a sanity check. */
export class CorruptDumpError extends VaatError {}
/** open/read failed at the OS level (missing file, permission, directory...). */
export class DumpIOError extends VaatError {
  constructor(message: string, file?: string, readonly errno?: string) { super(message, file); }
}
/** A page makedumpfile excluded (dump level) was read. */
export class ExcludedPageError extends VaatError {
  constructor(message: string, file: string | undefined, readonly address: bigint) { super(message, file); }
}
/** An address with no translation or not present in the dump. */
export class AddressNotMappedError extends VaatError {
  constructor(message: string, file: string | undefined, readonly address: bigint) { super(message, file); }
}

/** Turn an Error thrown by the addon (with .code) into the typed error for its cause. */
export function fromNative(err: unknown, file: string): Error {
  if (!(err instanceof Error)) return new VaatError(String(err), file);
  const e = err as Error & { code?: string; address?: bigint; errno?: string };
  const msg = e.message;
  switch (e.code) {
    case 'NOT_A_DUMP': return new NotADumpError(msg, file);
    case 'UNSUPPORTED': return new UnsupportedFormatError(msg, file);
    case 'TRUNCATED': return new TruncatedDumpError(msg, file);
    case 'CORRUPT': return new CorruptDumpError(msg, file);
    case 'EXCLUDED_PAGE': return new ExcludedPageError(msg, file, BigInt(e.address ?? 0n));
    case 'NOT_MAPPED': return new AddressNotMappedError(msg, file, BigInt(e.address ?? 0n));
    case 'IO': return new DumpIOError(msg, file, e.errno);
    default: return new VaatError(msg, file);
  }
}
