/**
 * Control characters written as escapes (`\t`, `\x1b`), as crash shows them: the one primitive
 * behind error lines (src/errors/) and display sanitising (src/output/sanitize.ts).
 */

// C0 controls, DEL and C1 controls (a C1 CSI, \x9b, is a terminal escape on its own)
// eslint-disable-next-line no-control-regex
export const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

export function escapeOne(c: string): string {
  switch (c) {
    case '\t': return '\\t';
    case '\n': return '\\n';
    case '\r': return '\\r';
    default: return '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0');
  }
}

/** every control character written as an escape */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, escapeOne);
}
