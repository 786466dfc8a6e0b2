/**
 * Text for people, made safe: every string a dump supplies (task names, cgroup names, the log,
 * the node name) was written by whoever ran on the crashed machine. Control characters are shown
 * as escapes (`\t`, `\x1b`), as crash shows them, so they can neither break a table nor drive the
 * terminal (an OSC title, a screen clear). `--json` keeps the exact bytes; only display escapes.
 */
import { escapeControls, escapeOne } from '../errors/escape.js';

// eslint-disable-next-line no-control-regex
const CONTROL_OR_SGR = /\x1b\[[0-9;]*m|[\x00-\x1f\x7f-\x9f]/g;

export { escapeControls };

export interface SanitizeOptions {
  /** keep line breaks (multi-line text a render put together) */
  newlines?: boolean;
  /** keep colour sequences (SGR, `ESC [ n m`): this sink colours its own text */
  colour?: boolean;
}

/**
 * Text for a terminal: control characters escaped, except line breaks and colour sequences when
 * asked. A colour sequence cannot move the cursor, retitle the window or clear the screen; when
 * the sink does not colour, even those are escaped.
 */
export function sanitizeForDisplay(s: string, opts: SanitizeOptions = {}): string {
  return s.replace(CONTROL_OR_SGR, (m) => {
    if (m.length > 1) return opts.colour ? m : escapeControls(m);
    if (m === '\n' && opts.newlines) return m;
    return escapeOne(m);
  });
}
