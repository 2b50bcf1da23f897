/**
 * `gui-grounding`: GUI grounding data from real pages in Playwright + Debian Chromium (paper §3.1): a folder of
 * saved HTML pages (`pages:`) or generated ones, a screenshot of the viewport, the visible DOM nodes with their
 * render-time boxes, roles and accessible names (`gui-dom.ts`), and referring-expression questions and actions
 * by text, role and relative position with answers in 0–999 coordinates (`gui-qa.ts`). One browser per shard.
 */
import { pathToFileURL } from "node:url";
import { errors, type Page } from "playwright-core";
import { z } from "zod";
import { CHROMIUM_PATH } from "../../data/gui-pages.ts";
import { pixelRectToBox } from "../../data/tasks/coords.ts";
import { GlmvError } from "../../util/errors.ts";
import type { CurateItem, SourceDef } from "../stage.ts";
import {
  IMAGE_FORMAT_OPTION,
  imageItem,
  inShardTab,
  itemRng,
  listFolder,
  qaMessages,
  resolveOptionPath,
  round2,
  SHARDING_OPTIONS,
  screenshotAs,
  shardCountOf,
  shardIndices,
} from "./common.ts";
import { COLLECT_NODES_JS, type DomNode } from "./gui-dom.ts";
import { buttonsPage, formsPage } from "./gui-forms.ts";
import { candidateQuestions, pickQuestions } from "./gui-qa.ts";
import { pageCall } from "./page-scripts.ts";

const NAME = "gui-grounding";

export const GuiGroundingOptions = z
  .object({
    ...SHARDING_OPTIONS,
    /**
     * A folder of saved pages (`.html`/`.htm`, loaded by file URL so their relative assets load); item i shows
     * page i mod n, so a `count` above the number of pages repeats them. Without it, pages are generated.
     */
    pages: z.string().min(1).optional(),
    /** Which generators make pages when no folder is given. */
    generators: z
      .array(z.enum(["forms", "buttons"]))
      .min(1)
      .default(["forms", "buttons"]),
    width: z.number().int().min(64).max(4096).default(1024),
    height: z.number().int().min(64).max(4096).default(768),
    /** Questions per page at most, mixing text, role and relative-position ones. */
    qaPerPage: z.number().int().min(1).max(100).default(6),
    /** Drop a page with fewer visible nodes than this (an empty or broken page teaches nothing). */
    minNodes: z.number().int().min(1).default(2),
    format: IMAGE_FORMAT_OPTION,
    /** How long a saved page may take to fire `load` (an asset that never arrives offline); then it is used as is. */
    pageTimeoutMs: z.number().int().min(100).default(15_000),
    chromium: z.string().min(1).default(CHROMIUM_PATH),
  })
  .strict();
export type GuiGroundingOptions = z.infer<typeof GuiGroundingOptions>;

/**
 * Open a saved page by file URL. A page whose `load` never fires in time (an asset the offline browser cannot
 * fetch) is used as far as it rendered; any other failure names the file.
 */
async function loadSavedPage(tab: Page, file: string, timeoutMs: number): Promise<void> {
  try {
    await tab.goto(pathToFileURL(file).href, { waitUntil: "load", timeout: timeoutMs });
  } catch (e) {
    if (e instanceof errors.TimeoutError) return;
    throw new GlmvError("io_error", `cannot open the page ${file}`, { where: "pages", cause: e });
  }
}

async function* generateGuiItems(
  o: GuiGroundingOptions,
  shard: number,
  ctx: { baseDir: string },
): AsyncIterable<CurateItem> {
  const indices = shardIndices(o, shard);
  if (indices.length === 0) return;
  const files = o.pages
    ? await listFolder(resolveOptionPath(ctx.baseDir, o.pages), [".html", ".htm"], "pages")
    : null;
  yield* inShardTab(o.chromium, async function* (tab) {
    for (const index of indices) {
      const rng = itemRng(NAME, o.seed, index);
      let page: string;
      let width = o.width;
      let height = o.height;
      if (files) {
        const file = files[index % files.length]!;
        page = file.split("/").at(-1)!;
        await tab.setViewportSize({ width, height });
        await loadSavedPage(tab, file, o.pageTimeoutMs);
      } else {
        const generator = rng.pick(o.generators);
        let html: string;
        if (generator === "buttons") {
          width = height = Math.min(o.width, o.height, 1024);
          html = buttonsPage(rng, width);
        } else html = formsPage(rng, width, height);
        page = `generated:${generator}`;
        await tab.setViewportSize({ width, height });
        await tab.setContent(html, { waitUntil: "load" });
      }
      await tab.evaluate("document.fonts.ready.then(() => true)");
      const raw = (await tab.evaluate(pageCall(COLLECT_NODES_JS, {}))) as DomNode[];
      if (raw.length < o.minNodes) continue;
      const nodes = raw.map((n) => ({ ...n, px: n.px.map(round2) as DomNode["px"] }));
      const qa = pickQuestions(rng, candidateQuestions(rng, nodes, { width, height }), o.qaPerPage);
      if (qa.length === 0) continue;
      const bytes = await screenshotAs(tab, o.format);
      const first = qa[0]!;
      yield imageItem(
        NAME,
        shard,
        index,
        { format: o.format, bytes },
        {
          page,
          width,
          height,
          nodes: nodes.map(({ role, name, tag, px: [x1, y1, x2, y2] }) => ({
            role,
            name,
            tag,
            box: pixelRectToBox(x1, y1, x2 - x1, y2 - y1, width, height),
            px: [x1, y1, x2, y2],
          })),
          qa,
          domain: "gui",
          question: first.question,
          answer: first.answer,
          messages: qaMessages(first.question, first.response),
        },
      );
    }
  });
}

/** GUI grounding from real pages: screenshot, visible DOM nodes with boxes, roles and names, and referring QA. */
export const guiGroundingSource: SourceDef<GuiGroundingOptions> = {
  name: NAME,
  summary:
    "GUI grounding from saved or generated pages in Chromium: visible DOM nodes with boxes, referring questions and actions in 0–999",
  options: GuiGroundingOptions,
  shardCount: shardCountOf,
  generate: generateGuiItems,
};
