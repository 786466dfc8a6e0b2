/**
 * The pages' script and stylesheet: the browser code in client/ with ECharts, dagre and the
 * list virtualiser, bundled by esbuild at build time (`npm run build:report-assets`) into
 * dist/report-assets/. Pages load them from a relative URL, so a report directory opens from
 * disk with no server and no network.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../package-root.js';
import { VaatError } from '../../dump/errors.js';
import { ASSET_CSS, ASSET_JS } from './layout.js';

export const ASSET_FILES = [ASSET_JS, ASSET_CSS] as const;

/** the directory holding the built assets */
export function assetDir(): string {
  const root = packageRoot();
  const dir = root ? join(root, 'dist', 'report-assets') : '';
  if (!root || !ASSET_FILES.every((f) => existsSync(join(dir, f)))) {
    throw new VaatError(`HTML report assets not built (${dir || 'package root not found'}): run 'npm run build' (or scripts/setup.sh)`);
  }
  return dir;
}

/** one asset's bytes, for a server that serves them itself */
export function readAsset(name: (typeof ASSET_FILES)[number]): Buffer {
  return readFileSync(join(assetDir(), name));
}

/** copy the assets into `dir` (created if needed) */
export function copyAssets(dir: string): void {
  const src = assetDir();
  mkdirSync(dir, { recursive: true });
  for (const f of ASSET_FILES) copyFileSync(join(src, f), join(dir, f));
}
