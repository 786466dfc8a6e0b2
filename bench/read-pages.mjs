// Read every present page of each fixture through vaat's addon (the present pfns are found
// first, untimed; then exactly those are read, as the peers read them), and compare the throughput (MB/s
// of uncompressed page data) with libkdumpfile's own Python binding reading the same pages, and
// with the codec's own command-line tool decompressing the same data as one stream (the physical
// limit). Prints a table; `--markdown` prints it for BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { best, fixtureDumps, fmt, printTable, root } from './common.mjs';

const { loadNative } = await import(join(root, 'dist/src/dump/native.js'));
const { DumpFile } = loadNative();
const tmp = mkdtempSync(join(tmpdir(), 'vaat-bench-'));
const BATCH = 1024;
const PAGE = 4096;

/** the present pfns of a dump (found by reading every pfn once, untimed) */
function presentPfns(path) {
  const d = new DumpFile(path);
  const { maxPfn } = d.attrs();
  const present = [];
  const addrs = new BigUint64Array(BATCH);
  const sizes = new Uint32Array(BATCH).fill(PAGE);
  for (let pfn = 0; pfn < maxPfn; pfn += BATCH) {
    const n = Math.min(BATCH, maxPfn - pfn);
    for (let i = 0; i < n; i++) addrs[i] = BigInt(pfn + i) * 4096n;
    const { status } = d.readBatch('phys', addrs.subarray(0, n), sizes.subarray(0, n));
    for (let i = 0; i < n; i++) if (status[i] === 0) present.push(pfn + i);
  }
  d.close();
  return present;
}

/** read exactly the present pages, as the peers do, in batches; returns the page data */
function readPresent(path, present) {
  const d = new DumpFile(path);
  const chunks = [];
  for (let k = 0; k < present.length; k += BATCH) {
    const part = present.slice(k, k + BATCH);
    const addrs = BigUint64Array.from(part, (p) => BigInt(p) * 4096n);
    const { data, status } = d.readBatch('phys', addrs, new Uint32Array(part.length).fill(PAGE));
    if (status.some((s) => s !== 0)) throw new Error(`${path}: a present page failed to read`);
    chunks.push(data);
  }
  d.close();
  return chunks;
}

/** libkdumpfile's Python binding reading the same pages; null where it cannot open the file */
function pythonKdumpfile(path, pfnFile) {
  const script = `
import kdumpfile, time, sys
k = kdumpfile.kdumpfile(sys.argv[1])
k.attr['addrxlat.ostype'] = 'linux'
pfns = [int(x) for x in open(sys.argv[2]).read().split()]
best = 1e9
for _ in range(3):
    t = time.perf_counter()
    for p in pfns:
        k.read(kdumpfile.KDUMP_KPHYSADDR, p * 4096, 4096)
    best = min(best, time.perf_counter() - t)
print(best * 1000)
`;
  const r = spawnSync('/usr/bin/python3', ['-c', script, path, pfnFile], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

/** the codec's CLI decompressing the same page data as one stream: ms, best of 3 */
function codecLimit(codec, raw) {
  const tools = {
    lzo: { ext: 'lzo', pack: ['lzop', ['-1', '-f', '-o']], unpack: ['lzop', ['-d', '-c']] },
    zstd: { ext: 'zst', pack: ['zstd', ['-1', '-q', '-f', '-o']], unpack: ['zstd', ['-d', '-c', '-q']] },
    zlib: { ext: 'gz', pack: null, unpack: ['gzip', ['-d', '-c']] },
    snappy: null,
  };
  if (codec === 'snappy') {
    const py = `
import snappy, sys, time
raw = open(sys.argv[1], 'rb').read()
c = snappy.compress(raw)
best = 1e9
for _ in range(3):
    t = time.perf_counter(); snappy.decompress(c); best = min(best, time.perf_counter() - t)
print(best * 1000)`;
    const r = spawnSync('/usr/bin/python3', ['-c', py, raw], { encoding: 'utf8' });
    return r.status === 0 ? { ms: Number(r.stdout.trim()), tool: 'python3-snappy' } : null;
  }
  const t = tools[codec];
  if (!t) return null;
  const packed = `${raw}.${t.ext}`;
  if (codec === 'zlib') spawnSync('sh', ['-c', `gzip -1 -c '${raw}' > '${packed}'`]);
  else spawnSync(t.pack[0], [...t.pack[1], packed, raw]);
  const ms = best(() => spawnSync('sh', ['-c', `${t.unpack[0]} ${t.unpack[1].join(' ')} '${packed}' > /dev/null`]), 3);
  return { ms, tool: `${t.unpack[0]} -d` };
}

const rows = [];
for (const f of fixtureDumps()) {
  const attrs = new DumpFile(f.path).attrs();
  const present = presentPfns(f.path);
  let chunks;
  const ms = best(() => { chunks = readPresent(f.path, present); }, 3);
  const mb = (present.length * PAGE) / 1e6;
  const rawFile = join(tmp, `${f.name}.raw`);
  writeFileSync(rawFile, Buffer.concat(chunks));
  const pfnFile = join(tmp, `${f.name}.pfns`);
  writeFileSync(pfnFile, present.join('\n'));
  const py = pythonKdumpfile(f.path, pfnFile);
  const codec = attrs.container === 'lzop' ? 'lzo' : attrs.codec;
  const lim = codecLimit(codec, rawFile);
  rows.push([
    `${f.scenario}/${f.name}`, `${attrs.container ? attrs.container + '+' : ''}${codec}`, attrs.backend, present.length,
    fmt(mb / (ms / 1000), 0), py === null ? 'cannot open' : fmt(mb / (py / 1000), 0), py === null ? '-' : fmt(py / ms, 1) + '×',
    lim ? fmt(mb / (lim.ms / 1000), 0) : '-', lim ? lim.tool : '-', lim ? fmt(lim.ms / ms, 2) : '-',
  ]);
}
rmSync(tmp, { recursive: true, force: true });
const header = ['dump', 'codec', 'vaat reader', 'pages', 'vaat MB/s', 'libkdumpfile-py MB/s', 'vaat speed-up', 'codec CLI MB/s', 'codec tool', 'vaat / codec'];
if (process.argv.includes('--markdown')) {
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} else printTable(header, rows);
