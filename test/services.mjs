/**
 * Real Redis and PostgreSQL for the fleet service's tests: Debian's redis-server and PostgreSQL 15
 * (scripts/setup.sh installs them), each started here in its own temporary directory on a free
 * loopback port and stopped at the end — never the packages' system services. PostgreSQL's
 * initdb refuses to run as root, so as root the cluster belongs to `nobody`. Plain JavaScript:
 * bench/service.mjs starts its services with it too.
 */
import { execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PG_BIN = ['/usr/lib/postgresql/15/bin', ...['16', '17', '14', '13'].map((v) => `/usr/lib/postgresql/${v}/bin`)].find((d) => existsSync(join(d, 'initdb')));
export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** a port nobody listens on now @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function waitForPort(port, what, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((r) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => { c.end(); r(true); });
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} did not start listening on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** @typedef {{ url: string, stop(): Promise<void> }} Service */

/** @returns {Promise<Service>} */
export async function startRedis() {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed (scripts/setup.sh --with-test-tools installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'vaat-redis-'));
  const port = await freePort();
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
  await waitForPort(port, 'redis-server');
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** @returns {Promise<Service>} */
export async function startPostgres() {
  if (!PG_BIN) throw new Error('PostgreSQL is not installed (scripts/setup.sh --with-test-tools installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'vaat-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, 65534, 65534);
  // execFile, not spawnSync: initdb and a waited-for start can take a minute on a loaded machine,
  // and a test worker must not block its event loop that long (vitest's RPC times out)
  const run = (cmd, args) => new Promise((resolve, reject) => {
    const [c, a] = asRoot ? ['runuser', ['-u', 'nobody', '--', cmd, ...args]] : [cmd, args];
    execFile(c, a, { encoding: 'utf8', cwd: dir }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || stdout}`));
      else resolve(undefined);
    });
  });
  const port = await freePort();
  await run(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'vaat', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  await run(join(PG_BIN, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', 'start', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`]);
  return {
    url: `postgres://vaat@127.0.0.1:${port}/postgres`,
    stop: async () => {
      try { await run(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']); } finally { rmSync(dir, { recursive: true, force: true }); }
    },
  };
}
