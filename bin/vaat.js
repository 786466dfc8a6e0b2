#!/usr/bin/env -S node --max-semi-space-size=2 --v8-pool-size=1
// Entry point. dist/vaat.cjs is the CLI bundled into one file (npm run build:bundle), which
// starts faster than loading each compiled module, loaded with V8's code cache (load-bundle.js);
// dist/cli/main.js is the plain tsc output.
// CommonJS (bin/package.json): an ES module entry starts Node's ES module loader, ~9 ms of every
// start here; the bundle is CommonJS and needs none of it.
// The #! line's flags:
// - V8's young generation capped at 2 MiB a half (Node's default grows it to 16): a task walk
//   keeps most of what it allocates, so a big young generation is only copied more and costs
//   more first-touch page faults (ps on 20,000 tasks: ~15% less CPU, ~15% less memory).
// - One V8 background thread, not Node's four: a command's heap is small and its background work
//   (concurrent marking, parallel scavenges, TurboFan compiles) gains little from more; the
//   threads' coordination cost CPU (10k tasks: ps 0.45 -> 0.43 s CPU, lockinfo 0.46 -> 0.40, 20k
//   stacks 2.14 -> 2.05, wall time the same or less on 2 cores). Many dumps at once get their
//   parallelism from worker processes (report -d, the service).
'use strict';

// Ctrl-C while the CLI loads ends as one later does (status 130, one line), never as a kill;
// main() installs the real handler (cli/interrupt.ts) before this one is removed.
const early = () => { process.stderr.write('\nvaat: interrupted\n'); process.exit(130); };
process.on('SIGINT', early);

const { loadBundle } = require('./load-bundle.js');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

async function start() {
  const bundle = join(__dirname, '../dist/vaat.cjs');
  // without the bundle (a tsc-only build): the ES modules tsc wrote
  const loaded = existsSync(bundle) ? await loadBundle(bundle, process.argv.slice(2)) : { exports: await import('../dist/cli/main.js'), done() {} };
  const run = loaded.exports.main(process.argv.slice(2));
  process.off('SIGINT', early);
  return { loaded, code: await run };
}

start().then(
  ({ loaded, code }) => {
    // one more turn of the event loop: a Ctrl-C that came during the last synchronous work is
    // handled (status 130), not lost because nothing else was left to wait for
    loaded.done();
    setImmediate(() => { process.exitCode = code; });
  },
  (err) => {
    process.stderr.write(`vaat: internal error: ${err?.message ?? err} — this is a bug in vaat, please report it with this line and the stack that --debug prints\n`);
    if (process.argv.includes('--debug') && err?.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 3;
  },
);
