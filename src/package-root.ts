/**
 * The vaat package's root directory (where package.json, data/ and build/ live), found by walking
 * up from this module: the same answer from src/ (tests), dist/src/ (tsc output) and dist/ (the
 * bundled CLI), which sit at different depths.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null | undefined;

export function packageRoot(): string | null {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'vaat') return (root = dir);
      } catch { /* not ours: keep walking */ }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return (root = null);
}
