/**
 * Escaping for HTML built from dump data. Every string from a vmcore (comm names, cgroup paths,
 * log lines, symbol names) is hostile input: it goes through esc() into text and attributes, and
 * through jsonScript() into the page's embedded data, never into markup as is.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** text or attribute value: the five markup characters as entities, control characters as visible escapes */
export function esc(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value)
    .replace(/[&<>"']/g, (c) => ENTITIES[c])
    // C0/C1 controls (but tab and newline) would be invisible or break layout: show them as \xNN
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** a fragment identifier made from dump data: only [A-Za-z0-9_-] */
export function anchorId(...parts: (string | number)[]): string {
  return parts.map((p) => String(p).replace(/[^A-Za-z0-9_-]/g, '_')).join('-');
}

/** an URL path segment (a report directory name) */
export function urlPart(s: string): string {
  return encodeURIComponent(s);
}

/**
 * JSON for a <script type="application/json"> element: '<' is written \u003c so that no string
 * inside (a comm named "</script>") can end the element; U+2028/2029 likewise for old parsers.
 */
export function jsonScript(id: string, value: unknown): string {
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
    .replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `<script type="application/json" id="${esc(id)}">${json}</script>`;
}

/** html`...` parts joined, with arrays flattened: a small helper for building markup from pieces */
export type Html = string;
export const join = (parts: readonly (Html | null | undefined | false)[]): Html => parts.filter((p): p is string => typeof p === 'string').join('');
