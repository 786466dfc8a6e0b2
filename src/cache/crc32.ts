/**
 * CRC-32 (zlib's polynomial) in JavaScript, for the per-build cache files when neither Node nor
 * the addon has one (~50× slower) and for the CLI's code cache, which bin/load-bundle.js checks before the
 * addon or the bundle is loaded. zlib.crc32 where Node has it (20.15+); this runs on 18.
 */
import * as zlib from 'node:zlib';

let table: Uint32Array | null = null;

const nodeCrc32 = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
/** Node has zlib.crc32 (20.15+), the fastest of the three */
export const hasNodeCrc32 = typeof nodeCrc32 === 'function';

export function crc32(data: Uint8Array): number {
  return hasNodeCrc32 ? nodeCrc32!(data) : crc32Table(data);
}

/** the table-driven computation itself (exported for the test that holds it equal to zlib's) */
export function crc32Table(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
