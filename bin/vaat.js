#!/usr/bin/env node
// Entry point. dist/vaat.mjs is the CLI bundled into one file (npm run build:bundle), which
// starts faster than loading each compiled module; dist/cli/main.js is the plain tsc output.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/vaat.mjs', import.meta.url);
const { main } = await import(existsSync(bundle) ? bundle.href : '../dist/cli/main.js');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`vaat: ${err?.message ?? err}\n`); process.exitCode = 3; },
);
