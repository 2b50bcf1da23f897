/**
 * `glmv data report`: a self-contained page, opened in Chromium, shows each stage's counts, thumbnails of kept and
 * dropped items with the drop reason and detail (escaped, never markup), and names media it cannot draw (a PDF).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { loadPipeline, runPipeline } from "../../src/curate/index.ts";
import { launchGuiBrowser } from "../../src/data/gui-pages.ts";
import { tinyPng } from "../../src/eval/tasks/hub-parquet.fixture.ts";
import { runGlmv } from "../helpers/spawn-glmv.ts";
import { tempDir, writePipeline } from "./helpers/pipelines.ts";

describe("glmv data report", () => {
  it("shows per-stage counts and kept and dropped items with reasons, in Chromium", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "media"));
    const records = [0, 1, 2, 3].map((n) => ({
      id: `r${n}`,
      image: n === 2 ? "doc.pdf" : `${n}.png`,
      caption: `caption ${n}`,
    }));
    for (const n of [0, 1, 3])
      writeFileSync(join(dir, "media", `${n}.png`), await tinyPng(40, 30, `#${n}0a0c0`));
    writeFileSync(join(dir, "media", "doc.pdf"), "%PDF-1.4\n% not drawn\n");
    writeFileSync(join(dir, "in.jsonl"), records.map((r) => JSON.stringify(r)).join("\n"));
    const file = writePipeline(dir, {
      name: "report <test>",
      input: { format: "jsonl", path: "in.jsonl", images: "media", shardSize: 2 },
      output: { format: "jsonl" },
      stages: [{ use: "toy-drop-every", n: 2 }, { use: "toy-tag" }],
    });
    const out = join(dir, "out");
    await runPipeline(await loadPipeline(file), { out });
    const r = await runGlmv(["data", "report", out]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(join(out, "report.html"));
    expect(readFileSync(join(out, "report.html"), "utf8")).not.toMatch(/<script>x/);

    const browser = await launchGuiBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(pathToFileURL(join(out, "report.html")).href);
      expect(await page.locator("h1").textContent()).toBe("report <test>");
      const stage = page.locator('section[data-stage="toy-drop-every"]');
      expect(await stage.locator('td[data-count="in"]').textContent()).toBe("4");
      expect(await stage.locator('td[data-count="kept"]').textContent()).toBe("2");
      expect(await stage.locator('td[data-reason="every_nth"]').textContent()).toBe("2");
      const dropped = stage.locator('.card[data-id="r0"]');
      expect(await dropped.locator(".reason").isVisible()).toBe(true);
      expect(await dropped.locator(".reason").textContent()).toBe("every_nth");
      expect(await dropped.locator(".detail").textContent()).toBe("number 0 <script>x</script>");
      expect(await dropped.locator("img").getAttribute("src")).toMatch(/^data:image\/jpeg;base64,/);
      expect(await stage.locator('.card[data-id="r2"] .file').textContent()).toBe("doc.pdf");
      const kept = await stage
        .locator(".card:not(:has(.reason))")
        .evaluateAll((cards) => cards.map((c) => c.getAttribute("data-id")));
      expect(kept).toEqual(["r1", "r3"]);
      expect(await page.locator("#output-items").textContent()).toBe("2");
    } finally {
      await browser.close();
    }
  }, 180_000);
});
