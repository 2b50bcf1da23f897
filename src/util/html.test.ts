import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeHtml, jsonForScript } from "./html.ts";

describe("escapeHtml", () => {
  it("escapes the five characters that matter in text and quoted attributes", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
  });
});

describe("jsonForScript", () => {
  it("never holds <, > or & (nothing can close the script element) and parses back to the value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, text) => {
        const json = jsonForScript({ value, text: `</script><!--${text}\u2028` });
        expect(json).not.toMatch(/[<>&\u2028\u2029]/);
        expect(JSON.parse(json)).toEqual(
          JSON.parse(JSON.stringify({ value, text: `</script><!--${text}\u2028` })),
        );
      }),
    );
  });
});
