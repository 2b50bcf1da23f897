/** Text into HTML safely: escaped for element content and attributes, or as JSON inside a `<script>` element. */

/**
 * `s` escaped for HTML text and quoted attribute values.
 * @example escapeHtml(`<a href="x">`) // "&lt;a href=&quot;x&quot;&gt;"
 */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * `value` as JSON that can sit inside `<script type="application/json">`: `<`, `>` and `&` become `\u` escapes, so
 * no text in it (`</script>`, `<!--`) can end or change the element; `JSON.parse` of the element's text gives
 * `value` back. U+2028/2029 are escaped too (some parsers treat them as line ends).
 * @example jsonForScript({ a: "</script>" }) // '{"a":"\\u003c/script\\u003e"}'
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
