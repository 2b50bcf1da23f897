import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DomNode } from "../../src/curate/sources/gui-dom.ts";
import { guiGroundingSource } from "../../src/curate/sources/gui-grounding.ts";
import { candidateQuestions, type GuiQa } from "../../src/curate/sources/gui-qa.ts";
import { findSource } from "../../src/curate/sources/index.ts";
import type { CurateItem } from "../../src/curate/stage.ts";
import { pointInBox } from "../../src/data/tasks/coords.ts";
import { scoreItem } from "../../src/reward/system.ts";
import { createRng } from "../../src/util/rng.ts";

type Node = { role: string; name: string; box: number[]; px: [number, number, number, number] };

/** Every element absolutely placed, so its box is known: [left, top, width, height]. */
const ABS = (l: number, t: number, w: number, h: number) =>
  `position:absolute;left:${l}px;top:${t}px;width:${w}px;height:${h}px;margin:0;padding:0;box-sizing:border-box`;
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="style.css"></head>
<body style="margin:0;font:14px 'DejaVu Sans'">
<h1 style="${ABS(20, 10, 300, 40)};font-size:24px">Account</h1>
<label for="q" style="${ABS(20, 70, 100, 24)}">Search</label>
<input id="q" type="text" style="${ABS(130, 70, 200, 24)};border:1px solid #888">
<a href="#help" style="${ABS(130, 120, 80, 20)};display:block">Help</a>
<button style="${ABS(20, 200, 100, 32)}">Save</button>
<button style="${ABS(140, 200, 100, 32)}">Cancel</button>
<input type="checkbox" id="r" style="${ABS(20, 260, 16, 16)}"><label for="r" style="position:absolute;left:44px;top:258px">Remember me</label>
<button style="display:none">Gone</button>
<button class="hidden-by-sheet" style="${ABS(400, 200, 100, 30)}">Sheet hidden</button>
<button style="${ABS(20, 320, 100, 30)};visibility:hidden">Invisible</button>
<a href="#x" style="${ABS(500, 20, 60, 20)};opacity:0">Ghost</a>
<button style="${ABS(300, 320, 100, 30)}">Covered</button>
<div style="${ABS(280, 300, 200, 80)};background:#eee">an overlay</div>
<button style="${ABS(20, 600, 100, 30)}">Below the fold</button>
</body></html>`;
/** Where each visible element was placed, as [x1, y1, x2, y2]. */
const PLACED: Record<string, [number, number, number, number]> = {
  "heading:Account": [20, 10, 320, 50],
  "textbox:Search": [130, 70, 330, 94],
  "link:Help": [130, 120, 210, 140],
  "button:Save": [20, 200, 120, 232],
  "button:Cancel": [140, 200, 240, 232],
  "checkbox:Remember me": [20, 260, 36, 276],
};

async function collect(options: unknown, baseDir: string, shard = 0): Promise<CurateItem[]> {
  const o = guiGroundingSource.options.parse(options);
  const out: CurateItem[] = [];
  for await (const item of guiGroundingSource.generate(o, shard, { baseDir })) out.push(item);
  return out;
}

function checkQa(item: CurateItem): void {
  const nodes = item.fields.nodes as Node[];
  for (const q of item.fields.qa as GuiQa[]) {
    expect(q.box).toEqual(nodes[q.target]!.box);
    expect(pointInBox(q.point, q.box)).toBe(true);
    // The expected response scores 1 against the gold label in the reward system's GUI verifier.
    const scored = scoreItem({
      id: "q",
      domain: "gui",
      style: "4.5v",
      response: `<think>ok</think>${q.response}`,
      answer: q.answer,
    });
    expect(scored.reward, q.question).toBe(1);
  }
}

describe("gui-grounding source", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glmv-gui-"));
    await mkdir(join(dir, "pages"));
    await writeFile(join(dir, "pages", "account.html"), PAGE);
    await writeFile(join(dir, "pages", "style.css"), ".hidden-by-sheet { display: none }");
    // A page with nothing to act on: too few nodes, so it makes no item.
    await writeFile(join(dir, "pages", "b-blank.html"), "<!doctype html><p>Nothing to click here.</p>");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is registered", () => {
    expect(findSource("gui-grounding")).toBe(guiGroundingSource);
  });

  it("lists a saved page's visible nodes with boxes within a pixel, leaving out hidden, covered and off-screen ones and empty pages", async () => {
    const items = await collect(
      { count: 2, shardSize: 2, pages: "pages", width: 640, height: 480, qaPerPage: 8 },
      dir,
    );
    expect(items.map((i) => i.id)).toEqual(["gui-grounding-0-0"]);
    const [item] = items;
    expect(item!.fields.page).toBe("account.html");
    const meta = await sharp(item!.media[0]!.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([640, 480]);
    const nodes = item!.fields.nodes as Node[];
    const byKey = Object.fromEntries(nodes.map((n) => [`${n.role}:${n.name}`, n]));
    expect(Object.keys(byKey).sort()).toEqual(Object.keys(PLACED).sort());
    for (const [key, want] of Object.entries(PLACED))
      for (const k of [0, 1, 2, 3])
        expect(Math.abs(byKey[key]!.px[k]! - want[k]!), `${key} edge ${k}`).toBeLessThanOrEqual(1);
    expect(byKey["button:Save"]!.box).toEqual([31, 416, 187, 483]);
    checkQa(item!);
    expect(new Set((item!.fields.qa as GuiQa[]).map((q) => q.kind))).toEqual(
      new Set(["text", "role", "relative"]),
    );
  });

  it("asks by text, by role and by position relative to a named node", () => {
    const node = (role: string, name: string, px: DomNode["px"]): DomNode => ({
      role,
      name,
      tag: "x",
      inputType: "",
      px,
    });
    const nodes = [
      node("textbox", "Search", [130, 70, 330, 94]),
      node("link", "Help", [130, 120, 210, 140]),
      node("link", "Blog", [400, 120, 460, 140]),
      node("button", "Save", [20, 200, 120, 232]),
      node("checkbox", "Remember me", [20, 260, 36, 276]),
    ];
    const questions = candidateQuestions(createRng(1), nodes, { width: 640, height: 480 }).map(
      (q) => `${q.question} → ${q.target}`,
    );
    expect(questions).toContain('Click the link below the text box labelled "Search". → 1');
    expect(questions).toContain('Click the button labelled "Save". → 3');
    expect(questions).toContain("Select the only checkbox on the screen. → 4");
    expect(questions).toContain("Click the 1st link from the left. → 1");
    expect(
      questions.some((q) => q.startsWith('Type "') && q.endsWith('into the text box labelled "Search". → 0')),
    ).toBe(true);
    // Blog is not below Search (no horizontal overlap), so no question names it that way.
    expect(questions.filter((q) => q.includes("below") && q.endsWith("→ 2"))).toEqual([]);
  });

  it("generates pages when no folder is given, the same on a rerun", async () => {
    const options = { count: 2, shardSize: 2, seed: 3, width: 480, height: 360 };
    const items = await collect(options, dir);
    expect(items.length).toBe(2);
    for (const item of items) {
      expect(item.fields.page).toMatch(/^generated:(forms|buttons)$/);
      expect((item.fields.nodes as Node[]).length).toBeGreaterThanOrEqual(2);
      checkQa(item);
    }
    const again = await collect(options, dir);
    expect(again.map((i) => i.fields)).toEqual(items.map((i) => i.fields));
  });
});
