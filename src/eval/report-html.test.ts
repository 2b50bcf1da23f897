import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_PATH, type GuiBrowser, launchGuiBrowser } from "../data/gui-pages.ts";
import { glmResponse, letterItem, letterRun, META } from "./eval-outputs.fixture.ts";
import { renderEvalReport, reportThumbnails, thumbnailKey } from "./report-html.ts";

/** A response that tries every way out of the page: closing the script, markup, an HTML comment. */
const HOSTILE = `</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"><!-- <b>bold</b> & "q"`;

function hostileReport(): string {
  const letters = letterRun([
    ["q1", "A", glmResponse("thinking about <script>", "A")],
    ["q2", "B", HOSTILE],
    ["q3", "C", null],
  ]);
  const other = letterRun([["</td><td>x", "A", "A"]], "<b>odd</b> task");
  return renderEvalReport({ meta: META, tasks: [letters, other] });
}

/** The text of the `#eval-data` element, as the browser hands it to JSON.parse. */
const dataOf = (html: string) =>
  JSON.parse(/<script type="application\/json" id="eval-data">([\s\S]*?)<\/script>/.exec(html)![1]!) as {
    tasks: string[];
    items: { id: string; verdict: string; response: string | null; thinking: string; answer: string }[];
  };

describe("renderEvalReport", () => {
  it("is one self-contained page: no external URL, inline style and script only", () => {
    const html = hostileReport();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<(link|script)[^>]+src=/i);
    expect(html).not.toMatch(/(href|src)=["']?https?:|url\(|@import/i);
  });

  it("a response holding </script>, markup or a comment cannot end the script or become markup", () => {
    const html = hostileReport();
    // only the report's own two script elements (data and browser), however many times the responses say <script>
    expect(html.match(/<script/gi)).toHaveLength(2);
    expect(html.match(/<\/script>/gi)).toHaveLength(2);
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<!--");
    // the data element gives the exact texts back
    const data = dataOf(html);
    expect(data.items.find((i) => i.id === "q2")!.response).toBe(HOSTILE);
    expect(data.items.find((i) => i.id === "q1")!.thinking).toBe("thinking about <script>");
    // names in the static tables are escaped
    expect(html).toContain("&lt;b&gt;odd&lt;/b&gt; task");
    expect(html).not.toContain("<b>odd</b>");
  });

  it("shows the per-task table with headline, accuracy, n, success rate, counts and interval", () => {
    const { run, samples, items } = letterRun(
      Array.from({ length: 20 }, (_, i): [string, string, string | null] => [
        `q${i}`,
        "A",
        i < 15 ? "A" : "B",
      ]),
    );
    const html = renderEvalReport({ meta: META, tasks: [{ run, samples, items }] });
    const row = /<table class="tasks">[\s\S]*?<tbody><tr[^>]*>([\s\S]*?)<\/tr>/.exec(html)![1]!;
    const cells = [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]);
    expect(cells.slice(0, 6)).toEqual(["letters", "75% (accuracy)", "75.0%", "20", "20 (100.0%)", "yes"]);
    expect(cells[6]).toMatch(/^\[\d+\.\d%, \d+\.\d%\]$/);
    expect(html).toContain("letters by gold");
  });

  it("marks a task whose requests succeeded below 95% as not counting", () => {
    const { run, samples } = letterRun([
      ["q1", "A", "A"],
      ["q2", "A", null],
    ]);
    const html = renderEvalReport({ meta: META, tasks: [{ run, samples }] });
    expect(html).toMatch(/<tr class="nocount"><td>letters<\/td>.*?<td>1 \(50\.0%\)<\/td><td>no<\/td>/);
  });
});

describe("reportThumbnails", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "glmv-eval-report-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("inlines small JPEG thumbnails of at most N items per task, wrong items first; a missing file is skipped", async () => {
    const png = await sharp({ create: { width: 900, height: 600, channels: 3, background: "#3366cc" } })
      .png()
      .toBuffer();
    writeFileSync(join(dir, "img.png"), png);
    const { run, samples } = letterRun([
      ["q1", "A", "A"],
      ["q2", "A", "B"],
      ["q3", "A", "A"],
      ["q4", "A", "A"],
    ]);
    const items = ["q1", "q2", "q3", "q4"].map((id) =>
      letterItem(id, "A", [{ path: id === "q4" ? join(dir, "missing.png") : join(dir, "img.png") }]),
    );
    const thumbs = await reportThumbnails([{ run, samples, items }], 3);
    expect([...thumbs.keys()]).toEqual([
      thumbnailKey("letters", "q2"),
      thumbnailKey("letters", "q1"),
      thumbnailKey("letters", "q3"),
    ]);
    const url = thumbs.get(thumbnailKey("letters", "q2"))!;
    expect(url.startsWith("data:image/jpeg;base64,")).toBe(true);
    const meta = await sharp(Buffer.from(url.split(",")[1]!, "base64")).metadata();
    expect([meta.width, meta.height]).toEqual([320, 213]);
    // the page carries the three; with a larger cap q4's missing file adds nothing
    const html = renderEvalReport({ meta: META, tasks: [{ run, samples, items }], thumbnails: thumbs });
    expect(dataOf(html).items.filter((i) => (i as { image?: string }).image).length).toBe(3);
    expect((await reportThumbnails([{ run, samples, items }], 10)).size).toBe(3);
  });
});

const hasChromium = existsSync(CHROMIUM_PATH);

describe.skipIf(!hasChromium)("report.html in a real Chromium", () => {
  let browser: GuiBrowser;
  beforeAll(async () => {
    browser = await launchGuiBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("runs no script from a response, shows it as text, and filters by task and verdict", async () => {
    const tab = await browser.context.newPage();
    try {
      await tab.setContent(hostileReport(), { waitUntil: "load" });
      expect(await tab.evaluate("window.pwned")).toBeUndefined();
      expect(await tab.locator(".item").count()).toBe(4);
      expect(await tab.locator(".item[data-id=q2] code").nth(2).textContent()).toBe(HOSTILE);
      await tab.selectOption("#filter-verdict", "failed");
      expect(await tab.locator(".item").count()).toBe(1);
      expect(await tab.locator(".item").first().getAttribute("data-id")).toBe("q3");
      await tab.selectOption("#filter-verdict", "");
      await tab.selectOption("#filter-task", "<b>odd</b> task");
      expect(await tab.locator(".item").count()).toBe(1);
      expect(await tab.locator(".count").textContent()).toBe("1 of 4 items");
    } finally {
      await tab.close();
    }
  });
});
