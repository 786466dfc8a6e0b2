/** Escaping for the HTML report: dump strings never become markup, and embedded JSON survives any string. */
import { describe, expect, it } from 'vitest';
import { anchorId, esc, jsonScript } from '../src/report/html/escape.js';

describe('HTML escaping', () => {
  it('turns markup characters into entities and control characters into visible escapes', () => {
    expect(esc(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(esc('bell\u0007 esc\u001b[31m del\u007f c1\u009b')).toBe('bell\\x07 esc\\x1b[31m del\\x7f c1\\x9b');
    expect(esc('tab\tnew\nline')).toBe('tab\tnew\nline');
    expect(esc(null)).toBe('');
    expect(esc(42)).toBe('42');
  });

  it('keeps embedded JSON inside its script element whatever the strings hold', () => {
    const value = { comm: '</script><script>alert(1)</script>', sep: '\u2028\u2029', n: 10n };
    const html = jsonScript('d', value);
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    const body = html.slice(html.indexOf('>') + 1, html.lastIndexOf('</script>'));
    expect(JSON.parse(body)).toEqual({ ...value, n: '10' });
  });

  it('makes fragment ids from dump strings with only safe characters', () => {
    expect(anchorId('stack', 3)).toBe('stack-3');
    expect(anchorId('bucket', '"><x')).toBe('bucket-___x');
  });
});
