/** The type layer: TypeInfo and its BTF implementation. */
export type * from './typeinfo.js';
export { BtfError, TypeLookupError } from './errors.js';
export { TypeSource } from './type-source.js';
export { BtfTypes, parseBtf, type BtfOptions } from './btf.js';
export { findBtfInBuffer, readBtfHeader, BtfKind, BTF_MAGIC, type BtfHeader, type BtfLocation } from './btf-format.js';
export { canonicalBaseName, parseTypeName } from './names.js';
export { formatTypeName } from './typename.js';
