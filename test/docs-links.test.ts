/**
 * Experiment logs live in `docs/`, and code points to them (glmv issue 17, item 5): every `docs/NAME.md#section`
 * cited in the sources, the benches or the README names a file and a section that exist, the doc's own `(#section)`
 * links resolve, and `rl/algorithm/curriculum.ts` stays mostly code.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");

/** All .ts files under `dir`, recursively. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, "")
    .replace(/\s/g, "-");

/** The anchors a Markdown file defines: explicit `<a id="…">` and its headings' slugs. */
function anchorsOf(markdown: string): Set<string> {
  const ids = [...markdown.matchAll(/<a id="([^"]+)"/g)].map((m) => m[1]!);
  const headings = [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!));
  return new Set([...ids, ...headings]);
}

/** `docs/NAME.md#anchor` references in `text` (the anchor may be absent). */
const docRefs = (text: string) =>
  [...text.matchAll(/docs\/([\w-]+\.md)(?:#([\w-]+))?/g)].map((m) => ({ file: m[1]!, anchor: m[2] }));

describe("docs links", () => {
  const sources = [...tsFiles(join(ROOT, "src")), ...tsFiles(join(ROOT, "bench")), join(ROOT, "README.md")];

  it("every docs/NAME.md#section cited in src, bench and the README exists", () => {
    const broken: string[] = [];
    let cited = 0;
    for (const path of sources) {
      for (const ref of docRefs(readFileSync(path, "utf8"))) {
        cited++;
        const doc = join(ROOT, "docs", ref.file);
        if (!existsSync(doc)) broken.push(`${path}: docs/${ref.file} does not exist`);
        else if (ref.anchor && !anchorsOf(readFileSync(doc, "utf8")).has(ref.anchor))
          broken.push(`${path}: docs/${ref.file} has no section #${ref.anchor}`);
      }
    }
    expect(cited).toBeGreaterThan(0);
    expect(broken).toEqual([]);
  });

  it("experiments.md's own section links resolve", () => {
    const text = readFileSync(join(ROOT, "docs/experiments.md"), "utf8");
    const anchors = anchorsOf(text);
    const links = [...text.matchAll(/\]\(#([\w-]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((a) => !anchors.has(a))).toEqual([]);
  });

  it("rl/algorithm/curriculum.ts is mostly code: its measurements moved to docs/experiments.md", () => {
    const lines = readFileSync(join(ROOT, "src/rl/algorithm/curriculum.ts"), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "");
    const comments = lines.filter((l) => /^\s*(\/\*\*|\*|\/\/)/.test(l)).length;
    expect(comments / lines.length).toBeLessThan(0.4);
  });
});
