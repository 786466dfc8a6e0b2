/**
 * The npm packages as a user gets them. `npm pack` of vaat and of each platform package
 * (scripts/pack.sh), installed into a fresh project with no network (npm --offline, the registry an
 * unreachable address) and no compiler or Python on PATH; then the README's library example,
 * `npx vaat info` and a TypeScript check (ESM, moduleResolution nodenext) run there. Also: what
 * the tarballs hold, that the prebuilt binaries need only glibc and libstdc++, that libkdumpfile is
 * optional, and the arm64 binary (cross-built here) run under qemu on the arm64 fixtures.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturesDir, primaryTruth, projectRoot, type Json } from './fixtures.js';

const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
const PLATFORMS = ['linux-x64-gnu', 'linux-arm64-gnu'];
const platformPkg = (p: string) => JSON.parse(readFileSync(join(projectRoot, 'npm', p, 'package.json'), 'utf8'));
// What a prebuilt binary may need: glibc (libc, libm, the dynamic loader; libdl and libpthread,
// separate libraries before glibc 2.34), libstdc++, libgcc_s.
const ALLOWED_NEEDED = /^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-(x86-64|aarch64)\.so\.[12])$/;
// The oldest glibc the prebuilt binaries run on (Debian 11, Ubuntu 20.04): built against Debian
// 11's (scripts/bullseye-sysroot.sh).
const GLIBC_FLOOR = [2, 31];

interface Ran { status: number | null; stdout: string; stderr: string }

// Asynchronous, so a long step (npm, tsc, qemu) does not block the test worker's event loop.
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

// The symbol versions a binary needs, by library (readelf's version-needs section): GLIBC_2.17...
function versionsNeeded(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let lib = '';
  for (const line of execFileSync('readelf', ['--version-info', '-W', file], { encoding: 'utf8' }).split('\n')) {
    const f = line.match(/File: (\S+)/);
    if (f) out.set(lib = f[1], []);
    const n = line.match(/^\s+0x[0-9a-f]+:\s+Name: (\S+)/);
    if (n && lib) out.get(lib)!.push(n[1]);
  }
  return out;
}

const versionKey = (v: string) => v.split('.').map(Number);
const newer = (a: number[], b: number[]) => { for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0); return false; };

// The newest GLIBC_x.y any library is asked for, and every versioned name that is not glibc's.
function glibcNeeds(file: string): { newest: string; others: string[] } {
  const all = [...versionsNeeded(file).values()].flat();
  const glibc = all.filter((v) => /^GLIBC_\d+(\.\d+)+$/.test(v)).map((v) => v.slice(6));
  expect(glibc.length, `${file} needs no GLIBC_ version at all: is this the right file?`).toBeGreaterThan(0);
  const newest = glibc.reduce((a, b) => (newer(versionKey(b), versionKey(a)) ? b : a));
  return { newest, others: all.filter((v) => !/^GLIBC_/.test(v)) };
}

// The prebuilt floor: no GLIBC_ version newer than GLIBC_FLOOR, and no C++ runtime needed from the system.
function expectGlibcFloor(bin: string, platform: string): void {
  const { newest, others } = glibcNeeds(bin);
  console.log(`packaging: ${platform} needs GLIBC_${newest} at most`);
  expect(newer(versionKey(newest), GLIBC_FLOOR), `needs GLIBC_${newest}`).toBe(false);
  expect(others).toEqual([]);
  expect(needed(bin).filter((l) => /^lib(stdc\+\+|gcc_s)/.test(l))).toEqual([]);
}

function needed(file: string): string[] {
  return [...execFileSync('readelf', ['-d', file], { encoding: 'utf8' }).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

// Undefined dynamic symbols nothing will provide: not Node's (napi_*), not versioned (glibc,
// libstdc++, libgcc), not weak. A static archive left out shows here, not only when loading.
function unresolved(file: string): string[] {
  return execFileSync('readelf', ['--dyn-syms', '-W', file], { encoding: 'utf8' }).split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[6] === 'UND' && f[7] && f[4] !== 'WEAK' && !f[7].includes('@') && !/^(napi|node_api)_/.test(f[7]))
    .map((f) => f[7]);
}

async function packList(dir: string): Promise<string[]> {
  const r = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout)[0].files as { path: string }[]).map((f) => f.path).sort();
}

describe('npm package contents', () => {
  it('vaat ships the library, CLI, types and addon sources, and no tests, fixtures, samples or build leftovers', async () => {
    const files = await packList(projectRoot);
    for (const f of ['package.json', 'README.md', 'bin/vaat.js', 'bin/load-bundle.js', 'dist/vaat.cjs', 'dist/src/index.js', 'dist/src/index.d.ts', 'binding.gyp', 'native/build-flags.cjs', 'native/addon.cc']) {
      expect(files).toContain(f);
    }
    const leftovers = files.filter((f) =>
      /^(test|bench|sample|build|npm|scripts|examples|node_modules|\.ci|\.vaat-cache)\//.test(f) ||
      /(^|\/)vmcore(?![^/]*\.(js|d\.ts)$)|\.map$|\.tgz$|\.node$|\.log$|^dist\/readme-|^dist\/test\//.test(f) ||
      (/\.ts$/.test(f) && !/\.d\.ts$/.test(f))); // TypeScript sources: dist/ has the compiled code
    expect(leftovers).toEqual([]);
    expect(pkg.scripts.install ?? pkg.scripts.preinstall ?? pkg.scripts.postinstall).toBeUndefined();
    expect(pkg.gypfile).toBe(false); // or npm would run node-gyp on install because binding.gyp is there
  });

  it.each(PLATFORMS)('@vaat/%s: os/cpu/libc, the version vaat depends on, and only the addon', async (p) => {
    const pj = platformPkg(p);
    const [os, cpu] = p.split('-');
    expect(pj.name).toBe(`@vaat/${p}`);
    expect(pj).toMatchObject({ os: [os], cpu: [cpu], libc: ['glibc'], main: 'vaat_native.node' });
    expect(pkg.optionalDependencies[pj.name]).toBe(pkg.version);
    expect(pj.version).toBe(pkg.version);
    const files = await packList(join(projectRoot, 'npm', p));
    expect(files.filter((f) => f !== 'vaat_native.node')).toEqual(['README.md', 'package.json']);
  });
});

describe('prebuilt linux-x64-gnu binary', () => {
  const bin = join(projectRoot, 'build/Release/vaat_native.node');

  it(`needs glibc ${GLIBC_FLOOR.join('.')} at most, and no libstdc++ or libgcc_s symbol versions (both linked in)`, () => expectGlibcFloor(bin, 'linux-x64-gnu'));

  it('needs only glibc (C++ runtime, codecs and elfutils linked in, libkdumpfile opened at run time)', async () => {
    const libs = needed(bin);
    expect(libs.filter((l) => !ALLOWED_NEEDED.test(l))).toEqual([]);
    const ldd = execFileSync('ldd', [bin], { encoding: 'utf8' });
    const resolved = [...ldd.matchAll(/^\s*(\S+)/gm)].map((m) => m[1]).filter((l) => !/^linux-vdso/.test(l));
    expect(resolved.map((l) => l.replace(/^.*\//, '')).filter((l) => !ALLOWED_NEEDED.test(l))).toEqual([]);
    expect(unresolved(bin)).toEqual([]);
  });
});

describe('installed from the tarballs, offline, with no compiler or Python', () => {
  let work: string;
  let project: string;
  let tarballs: string[];
  let env: NodeJS.ProcessEnv;
  let install: Ran;
  let installSeconds: number;
  const dump = join(fixturesDir, 'cgroup-mutex-hung', 'vmcore.kdump-zstd');

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'vaat-pack-'));
    const packed = await run('bash', [join(projectRoot, 'scripts/pack.sh'), join(work, 'tarballs')]);
    expect(packed.status, packed.stderr).toBe(0);
    tarballs = packed.stdout.trim().split('\n');
    // PATH: node, npm, npx and sh only.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    const nodeDir = dirname(process.execPath);
    for (const t of ['node', 'npm', 'npx']) symlinkSync(join(nodeDir, t), join(bin, t));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    env = {
      PATH: bin,
      HOME: process.env.HOME,
      LANG: 'C.UTF-8',
      NO_COLOR: '1',
      // no network: npm may only use its cache, and any request would go to a proxy where nothing listens
      npm_config_offline: 'true',
      npm_config_proxy: 'http://127.0.0.1:9/',
      npm_config_https_proxy: 'http://127.0.0.1:9/',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      npm_config_loglevel: 'error',
    };
    project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'vaat-user', version: '1.0.0', type: 'module', private: true }));
    const mine = tarballs.filter((t) => /\/vaat-\d|\/vaat-linux-x64-gnu-/.test(t));
    // npm resolves vaat's dependency ranges (chalk, commander, table...) to the newest matching
    // releases, which need not be the ones this checkout's lock file installed. They are fetched
    // here, with the network, into npm's cache (metadata and tarballs, no scripts run), as on a
    // machine that has installed vaat's dependencies before. The install below is offline.
    const warm = mkdtempSync(join(work, 'warm-'));
    writeFileSync(join(warm, 'package.json'), JSON.stringify({ name: 'warm', version: '1.0.0', private: true }));
    const resolved = await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', ...mine], { cwd: warm });
    expect(resolved.status, `resolving vaat's dependencies needs the npm registry once: ${resolved.stderr}`).toBe(0);
    const t0 = process.hrtime.bigint();
    install = await run('npm', ['install', ...mine], { cwd: project, env });
    installSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`packaging: npm install of ${mine.length} tarballs took ${installSeconds.toFixed(1)} s`);
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the environment really has no compiler, Python or network', async () => {
    for (const tool of ['cc', 'gcc', 'g++', 'c++', 'make', 'python3', 'python', 'node-gyp']) {
      expect((await run('sh', ['-c', `command -v ${tool}`], { env })).status).not.toBe(0);
    }
    // a package npm has never seen cannot come from anywhere
    const r = await run('npm', ['view', 'vaat-no-such-package-17', 'version'], { cwd: project, env });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ENOTCACHED/);
  });

  it('npm install of the tarballs succeeds, runs no build and installs only the matching platform package', async () => {
    expect(install.status, install.stderr).toBe(0);
    expect(tarballs.map((t) => t.replace(/^.*\//, '')).sort()).toEqual(
      expect.arrayContaining([`vaat-${pkg.version}.tgz`, `vaat-linux-x64-gnu-${pkg.version}.tgz`]),
    );
    expect(existsSync(join(project, 'node_modules/@vaat/linux-x64-gnu/vaat_native.node'))).toBe(true);
    expect(existsSync(join(project, 'node_modules/@vaat/linux-arm64-gnu'))).toBe(false);
    expect(existsSync(join(project, 'node_modules/vaat/build'))).toBe(false);
    const installed = join(project, 'node_modules/@vaat/linux-x64-gnu/vaat_native.node');
    expect(needed(installed).filter((l) => !ALLOWED_NEEDED.test(l))).toEqual([]);
    expect(newer(versionKey(glibcNeeds(installed).newest), GLIBC_FLOOR)).toBe(false);
  });

  it("runs the README's library example", async () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const code = readme.match(/```ts\n([\s\S]*?)```/)?.[1];
    expect(code).toContain("from 'vaat'");
    writeFileSync(join(project, 'example.mjs'), code!);
    // run where the example's relative sample path resolves; `import 'vaat'` resolves from the project
    const r = await run('node', [join(project, 'example.mjs')], { cwd: projectRoot, env });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toContain('mutex vaat_holder');
  });

  it('npx vaat info reads a fixture through the prebuilt binary', async () => {
    const t = primaryTruth('cgroup-mutex-hung');
    const r = await run('npx', ['vaat', 'info', dump, '--json'], { cwd: project, env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(t.uname.release);
  });

  it('types resolve for ESM with moduleResolution nodenext (tsc in the project)', async () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const code = readme.match(/```ts\n([\s\S]*?)```/)![1];
    const ts = `${code}\nimport type { Vmcore } from 'vaat';\nconst typed: Vmcore = vm;\nvoid typed;\n`;
    writeFileSync(join(project, 'example.ts'), ts);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true,
        types: ['node'], typeRoots: [join(projectRoot, 'node_modules/@types')],
      },
      files: ['example.ts'],
    }));
    const r = await run('node', [join(projectRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: project, env });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    // and an import that does not exist is an error (the check is not vacuous)
    writeFileSync(join(project, 'example.ts'), `import { noSuchExport } from 'vaat';\nvoid noSuchExport;\n`);
    const bad = await run('node', [join(projectRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--skipLibCheck'], { cwd: project, env });
    expect(bad.stdout).toMatch(/noSuchExport/);
  });

  it('--reader libkdumpfile explains when libkdumpfile is not installed, and works when it is', async () => {
    const missing = await run('npx', ['vaat', 'info', '--reader', 'libkdumpfile', dump], {
      cwd: project, env: { ...env, VAAT_LIBKDUMPFILE: join(work, 'no-such-dir/libkdumpfile.so.10') },
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/libkdumpfile reader needs libkdumpfile, which is not installed/);
    // the default reader needs nothing
    expect((await run('npx', ['vaat', 'info', dump], { cwd: project, env: { ...env, VAAT_LIBKDUMPFILE: join(work, 'none.so') } })).status).toBe(0);
    const present = await run('npx', ['vaat', 'info', '--reader', 'libkdumpfile', dump, '--json'], { cwd: project, env });
    expect(present.status, present.stderr).toBe(0);
    expect(present.stdout).toContain(primaryTruth('cgroup-mutex-hung').uname.release);
  });

  it('a platform with no prebuilt binary gets a message naming it and how to build from source', async () => {
    // pretend to be riscv64: the loader looks for @vaat/linux-riscv64-gnu, which does not exist
    const r = await run('npx', ['vaat', 'info', dump], {
      cwd: project,
      env: { ...env, NODE_OPTIONS: `--import=data:text/javascript,Object.defineProperty(process,'arch',{value:'riscv64'})` },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no prebuilt binary for linux-riscv64-gnu \(prebuilt: linux-x64-gnu, linux-arm64-gnu\)/);
    expect(r.stderr).toMatch(/npm explore vaat -- npm run build:native/);
    const src = await run('npx', ['vaat', 'info', dump], { cwd: project, env: { ...env, VAAT_BUILD_FROM_SOURCE: '1' } });
    expect(src.status).not.toBe(0);
    expect(src.stderr).toMatch(/VAAT_BUILD_FROM_SOURCE=1 but there is no build at .*build\/Release/);
  });

  // After the tests above: they need the package as installed, with no build from source in it.
  it("the README's build from source (npm explore vaat -- npm run build:native) builds the addon in the installed package, which is then used", async () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const command = readme.match(/^(npm explore vaat -- npm run build:native)\b/m)?.[1];
    expect(command, 'README documents the build from source').toBeDefined();
    // and says why npm rebuild --build-from-source does not do it (no install script to run)
    expect(readme).toMatch(/`npm rebuild --build-from-source`[^.]*builds nothing/);
    // With the machine's compiler and the -dev packages (scripts/setup.sh), still offline: node-gyp
    // takes the Node headers from nodedir (this checkout's .npmrc) rather than downloading them.
    const nodedir = readFileSync(join(projectRoot, '.npmrc'), 'utf8').match(/^nodedir=(.*)$/m)?.[1] ?? '/usr';
    const r = await run('sh', ['-c', command!], {
      cwd: project, env: { ...env, PATH: `${join(work, 'bin')}:${process.env.PATH}`, npm_config_nodedir: nodedir },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const built = join(project, 'node_modules/vaat/build/Release/vaat_native.node');
    expect(existsSync(built)).toBe(true);
    // the system's shared libraries, unlike the prebuilt binary: this is the source build
    expect(needed(built)).toEqual(expect.arrayContaining(['libdw.so.1', 'libzstd.so.1']));
    const info = await run('npx', ['vaat', 'info', dump, '--json'], { cwd: project, env: { ...env, VAAT_BUILD_FROM_SOURCE: '1' } });
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toContain(primaryTruth('cgroup-mutex-hung').uname.release);
  }, 900_000);
});

// ---------------------------------------------------------------------------------------------
// The linux-arm64-gnu binary, cross-built on this x86_64 machine (scripts/build-arm64.sh), run by
// Debian's arm64 nodejs under qemu-user on the arm64 fixtures: dump facts against drgn's truth,
// and pages byte for byte against the x86_64 binary and against libkdumpfile (arm64 too).
const arm64Bin = join(projectRoot, 'npm/linux-arm64-gnu/vaat_native.node');
const sysroot = join(process.env.VAAT_CROSS_DIR ?? join(process.env.HOME ?? '/root', '.cache/vaat-cross'), 'arm64-node');
const qemu = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].find((p) => existsSync(p));
const arm64Ready = existsSync(arm64Bin) && !!qemu && existsSync(join(sysroot, 'usr/bin/node'));
const arm64Dumps = ['arm64-sysrq/vmcore.kdump-lzo', 'arm64-cgroup-mutex-hung/vmcore.kdump-zlib', 'arm64-oops-qemu/vmcore.qemu-kdump-zlib']
  .map((f) => join(fixturesDir, f));

// Runs on either architecture: facts and page hashes a dump gives through one addon and back end.
const PROBE = `
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
const [bin, backend, ...files] = process.argv.slice(2);
const n = createRequire(import.meta.url)(bin);
const out = { arch: process.arch, libkdumpfile: n.versions.libkdumpfile, dumps: [] };
for (const f of files) {
  const d = new n.DumpFile(f, { backend });
  const a = d.attrs();
  // 1024 pages spread over physical memory, hashed with their status (0 read, 1 excluded, ...)
  const start = BigInt(a.vmcoreinfo.match(/NUMBER\\(PHYS_OFFSET\\)=(0x[0-9a-f]+)/)?.[1] ?? '0');
  const addrs = new BigUint64Array(1024), sizes = new Uint32Array(1024).fill(a.pageSize);
  for (let i = 0; i < 1024; i++) addrs[i] = start + BigInt(Math.floor((i * (a.maxPfn - Number(start / BigInt(a.pageSize)))) / 1024)) * BigInt(a.pageSize);
  const b = d.readBatch('phys', addrs, sizes);
  // init_uts_ns, a kernel image symbol: physical = virtual - kimage_voffset on arm64
  const sym = BigInt('0x' + a.vmcoreinfo.match(/SYMBOL\\(init_uts_ns\\)=([0-9a-f]+)/)[1]);
  const voff = BigInt(a.vmcoreinfo.match(/NUMBER\\(kimage_voffset\\)=(0x[0-9a-f]+)/)[1]);
  const uts = d.readPhys(sym - voff, 512).toString('latin1');
  out.dumps.push({ file: f, backend: a.backend, format: a.format, arch: a.arch, codec: a.codec, nrCpus: a.nrCpus, maxPfn: a.maxPfn,
    release: a.uts?.release ?? null, utsStrings: uts.split('\\0').filter((s) => s.length > 2),
    pages: createHash('sha256').update(b.data).update(b.status).digest('hex'),
    present: b.status.filter((s) => s === 0).length });
  d.close();
}
console.log(JSON.stringify(out));
`;

describe('prebuilt linux-arm64-gnu binary', () => {
  if (!arm64Ready) {
    it.skip(`arm64 binary under qemu — skipped: not cross-built on this machine (bash scripts/setup.sh --with-cross builds it; needs ${arm64Bin}, qemu-aarch64-static, ${sysroot}/usr/bin/node)`, () => {});
    return;
  }
  let probeFile: string;
  beforeAll(() => {
    probeFile = join(mkdtempSync(join(tmpdir(), 'vaat-arm64-')), 'probe.mjs');
    writeFileSync(probeFile, PROBE);
  });
  afterAll(() => rmSync(dirname(probeFile), { recursive: true, force: true }));

  const onArm64 = async (backend: string, dumps = arm64Dumps) => {
    const r = await run(qemu!, ['-L', sysroot, join(sysroot, 'usr/bin/node'), probeFile, arm64Bin, backend, ...dumps], { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  it('is an aarch64 shared object needing only glibc', async () => {
    expect(execFileSync('readelf', ['-h', arm64Bin], { encoding: 'utf8' })).toMatch(/Machine:\s+AArch64/);
    expect(needed(arm64Bin).filter((l) => !ALLOWED_NEEDED.test(l))).toEqual([]);
    expect(unresolved(arm64Bin)).toEqual([]);
  });

  it(`needs glibc ${GLIBC_FLOOR.join('.')} at most, and no libstdc++ or libgcc_s symbol versions (both linked in)`, () => expectGlibcFloor(arm64Bin, 'linux-arm64-gnu'));

  let viaVaat: Promise<Json> | undefined;  // the default reader's results, shared by both tests
  const armVaat = () => (viaVaat ??= onArm64('vaat'));

  it("opens the arm64 fixtures under qemu: facts match drgn's truth, pages match the x86_64 binary's", async () => {
    const arm = await armVaat();
    expect(arm.arch).toBe('arm64');
    // the same probe through this machine's x86_64 addon
    const x64 = JSON.parse((await run(process.execPath, [probeFile, join(projectRoot, 'build/Release/vaat_native.node'), 'vaat', ...arm64Dumps])).stdout);
    expect(x64.arch).toBe('x64');
    expect(arm.dumps).toEqual(x64.dumps);
    for (const d of arm.dumps) {
      const t = primaryTruth(d.file.split('/').at(-2));
      expect(d.nrCpus).toBe(t.cpus.nr_cpu_ids);
      expect(d.utsStrings).toEqual(expect.arrayContaining([t.uname.sysname, t.uname.nodename, t.uname.release, t.uname.version, t.uname.machine]));
      expect(d.present).toBeGreaterThan(0);
    }
  });

  // makedumpfile's dumps: libkdumpfile cannot translate addresses in QEMU's arm64 dump (no arch in its header)
  const kdumpfileDumps = arm64Dumps.filter((f) => !/qemu/.test(f));
  it('loads libkdumpfile (arm64) at run time and reads the same pages through it', async () => {
    const vaat = (await armVaat()).dumps.filter((d: { file: string }) => kdumpfileDumps.includes(d.file));
    const kdf = await onArm64('libkdumpfile', kdumpfileDumps);
    expect(kdf.libkdumpfile).toMatch(/^\d+\.\d+\.\d+$/);
    expect(kdf.dumps.map((d: { backend: string }) => d.backend)).toEqual(kdumpfileDumps.map(() => 'libkdumpfile'));
    expect(kdf.dumps.map((d: { pages: string }) => d.pages)).toEqual(vaat.map((d: { pages: string }) => d.pages));
  });
});

// ---------------------------------------------------------------------------------------------
// The oldest platform the prebuilt binaries support, for real: Debian 11's glibc 2.31 and its
// nodejs 12.22 (N-API 8), unpacked by scripts/bullseye-sysroot.sh --node. The x86_64 binary runs
// through that glibc's own dynamic loader, the arm64 one under qemu with it; both read dumps of
// every codec, and give what this machine's Node and glibc give through the same binary.
const crossDir = process.env.VAAT_CROSS_DIR ?? join(process.env.HOME ?? '/root', '.cache/vaat-cross');
// Node 12's JavaScript: no ?., no ??; CommonJS
const OLD_PROBE = `
const { createHash } = require('crypto');
const [bin, ...files] = process.argv.slice(2);
const n = require(bin);
const out = { node: process.version, glibc: process.report.getReport().header.glibcVersionRuntime, dumps: [] };
for (const f of files) {
  const d = new n.DumpFile(f, { backend: 'vaat' });
  const a = d.attrs();
  const addrs = new BigUint64Array(256), sizes = new Uint32Array(256).fill(a.pageSize);
  const m = /NUMBER\\(PHYS_OFFSET\\)=(0x[0-9a-f]+)/.exec(a.vmcoreinfo);
  const start = BigInt(m ? m[1] : '0') / BigInt(a.pageSize);
  for (let i = 0; i < 256; i++) addrs[i] = (start + BigInt(Math.floor((i * (a.maxPfn - Number(start))) / 256))) * BigInt(a.pageSize);
  const b = d.readBatch('phys', addrs, sizes);
  out.dumps.push({ file: f, format: a.format, codec: a.codec, nrCpus: a.nrCpus, maxPfn: a.maxPfn, release: a.uts ? a.uts.release : null,
    pages: createHash('sha256').update(b.data).update(b.status).digest('hex'), present: b.status.filter((x) => x === 0).length });
  d.close();
}
console.log(JSON.stringify(out));
`;

for (const { arch, bin, dumps: rel } of [
  { arch: 'x64', bin: join(projectRoot, 'build/Release/vaat_native.node'), dumps: ['cgroup-mutex-hung/vmcore.kdump-zstd', 'k510-cgroup-mutex-hung/vmcore.kdump-zlib'] },
  { arch: 'arm64', bin: arm64Bin, dumps: ['arm64-sysrq/vmcore.kdump-lzo', 'arm64-cgroup-mutex-hung/vmcore.kdump-zlib'] },
]) describe(`prebuilt linux-${arch}-gnu binary on Debian 11 (glibc 2.31, Node 12)`, () => {
  const root = join(crossDir, `bullseye-node-${arch}`);
  const ready = existsSync(join(root, 'usr/bin/node')) && existsSync(bin) && (arch === 'x64' || !!qemu);
  if (!ready) {
    it.skip(`skipped: Debian 11's node not unpacked (bash scripts/setup.sh --with-cross fetches it: ${root}) or no ${bin}`, () => {});
    return;
  }
  const files = rel.map((f) => join(fixturesDir, f));
  it('loads and reads dumps there as it does here', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vaat-old-'));
    try {
      const probe = join(dir, 'probe.js');
      writeFileSync(probe, OLD_PROBE);
      const libs = ['lib', 'usr/lib'].map((d) => join(root, d, arch === 'x64' ? 'x86_64-linux-gnu' : 'aarch64-linux-gnu')).join(':');
      const old = arch === 'x64'
        ? await run(join(root, 'lib64/ld-linux-x86-64.so.2'), ['--library-path', libs, join(root, 'usr/bin/node'), probe, bin, ...files], { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } })
        : await run(qemu!, ['-L', root, join(root, 'usr/bin/node'), probe, bin, ...files], { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
      expect(old.status, old.stderr).toBe(0);
      const there = JSON.parse(old.stdout);
      expect(there.glibc).toBe('2.31');
      expect(there.node).toMatch(/^v12\./);
      for (const d of there.dumps) {
        const t = primaryTruth(d.file.split('/').at(-2));
        expect(d.release).toBe(t.uname.release);
        expect(d.nrCpus).toBe(t.cpus.nr_cpu_ids);
        expect(d.present).toBeGreaterThan(0);
      }
      if (arch === 'x64') {
        // the same probe, this machine's Node and glibc, the same binary
        const here = await run(process.execPath, [probe, bin, ...files]);
        expect(here.status, here.stderr).toBe(0);
        expect(there.dumps).toEqual(JSON.parse(here.stdout).dumps);
      }
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }, 300_000);
});
