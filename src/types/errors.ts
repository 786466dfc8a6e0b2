/**
 * Errors of the type layer: one for data that is not (or no longer) valid BTF, one for asking
 * about a type or member that does not exist. Both are VaatErrors so callers can catch broadly.
 */
import { VaatError } from '../dump/errors.js';

/** BTF bytes that fail a sanity check (bad magic, a length past the end, a dangling type id...). */
export class BtfError extends VaatError {}

/** A type, member or enumerator that is not there (or a question that has no answer, e.g. sizeof void). */
export class TypeLookupError extends VaatError {}
