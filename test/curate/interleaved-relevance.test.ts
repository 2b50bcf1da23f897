import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CurateItem, StageOutcome } from "../../src/curate/stage.ts";
import type { Block } from "../../src/curate/stages/interleaved/document.ts";
import { imageRelevance } from "../../src/curate/stages/interleaved/image-relevance.ts";
import { COLOURS, type OpenAiLikeServer, startOpenAiLikeServer } from "../helpers/openai-like-server.ts";
import { flat } from "./helpers/images.ts";

const ctx = { shard: 0, signal: new AbortController().signal };
const openCtx = { baseDir: ".", stateDir: ".", scanInput: async function* () {} };
let api: OpenAiLikeServer;
const swatch: Record<string, Uint8Array> = {};

beforeAll(async () => {
  api = await startOpenAiLikeServer();
  for (const name of ["red", "blue", "green", "yellow"])
    swatch[name] = await flat(64, 48, COLOURS[name] as [number, number, number]);
});
afterAll(() => api.close());

async function run(options: Record<string, unknown>, item: CurateItem): Promise<StageOutcome> {
  const parsed = imageRelevance.options.parse({ hook: { url: api.url, model: "clip" }, ...options });
  const stage = await imageRelevance.open(parsed, openCtx);
  return stage.process(item, ctx);
}

/** A document from a compact outline: strings are text blocks, `[colour]` an image of that colour. */
function doc(outline: string[]): CurateItem {
  const media: CurateItem["media"] = [];
  const blocks = outline.map((part, i) => {
    const colour = /^\[(\w+)\]$/.exec(part)?.[1];
    if (!colour) return { type: "text", text: part };
    media.push({ name: `${i}-${colour}.png`, bytes: swatch[colour] as Uint8Array });
    return { type: "image", media: `${i}-${colour}.png` };
  });
  return { id: "doc", media, fields: { blocks } };
}

const imagesLeft = (out: StageOutcome) =>
  out.kind === "keep"
    ? ((out.items[0] as CurateItem).fields.blocks as Block[]).flatMap((b) =>
        b.type === "image" ? [b.media] : [],
      )
    : out.reason;

describe("image-relevance", () => {
  it("keeps images that match some text block, removes the others and scores the kept ones", async () => {
    const out = await run(
      {},
      doc(["A red fire truck parked outside.", "[red]", "The blue sea at dawn.", "[blue]", "[green]"]),
    );
    expect(imagesLeft(out)).toEqual(["1-red.png", "3-blue.png"]);
    if (out.kind !== "keep") throw new Error("dropped");
    const item = out.items[0] as CurateItem;
    expect(item.fields.removedImages).toEqual({ irrelevant_image: 1 });
    expect(item.media.map((m) => m.name)).toEqual(["1-red.png", "3-blue.png"]);
    const red = (item.fields.blocks as Block[])[1];
    expect(red?.relevance).toBeGreaterThan(0.5);
    // images go as data URLs in `input` with modality image, texts as strings, one request each
    const bodies = api.requests
      .filter((r) => r.path === "/v1/embeddings")
      .slice(-2)
      .map((r) => r.body);
    expect(
      bodies.some(
        (b) => b.modality === "image" && String((b.input as string[])[0]).startsWith("data:image/png"),
      ),
    ).toBe(true);
  });

  it("nearest compares an image with the text around it only", async () => {
    const outline = [
      "The blue whale dives.",
      "Filler about ships.",
      "Filler about ports.",
      "[blue]",
      "A red car.",
    ];
    expect(imagesLeft(await run({ context: "blocks" }, doc(outline)))).toEqual(["3-blue.png"]);
    expect(imagesLeft(await run({ context: "nearest", window: 1 }, doc(outline)))).toEqual([]);
    expect(imagesLeft(await run({ context: "nearest", window: 3 }, doc(outline)))).toEqual(["3-blue.png"]);
  });

  it("document compares with the whole text", async () => {
    const outline = ["A yellow taxi in the rain.", "[yellow]", "Nothing else here.", "[green]"];
    expect(imagesLeft(await run({ context: "document" }, doc(outline)))).toEqual(["1-yellow.png"]);
  });

  it("drops a document left without images only when asked, and passes pairs and text-only documents", async () => {
    const offTopic = doc(["A red kite over the hill.", "[green]"]);
    const kept = await run({}, offTopic);
    expect(imagesLeft(kept)).toEqual([]);
    expect(await run({ dropWithoutImages: true }, offTopic)).toMatchObject({
      kind: "drop",
      reason: "no_relevant_images",
    });
    const pair: CurateItem = {
      id: "p",
      media: [{ name: "0.png", bytes: swatch.red as Uint8Array }],
      fields: { caption: "x" },
    };
    expect(await run({}, pair)).toEqual({ kind: "keep", items: [pair] });
    const picturesOnly = doc(["[red]"]);
    expect(await run({}, picturesOnly)).toEqual({ kind: "keep", items: [picturesOnly] });
  });

  it("fails the item when the embeddings server keeps failing (the runner counts it), after its retries", async () => {
    api.failNext(10, 500);
    await expect(
      run({ hook: { url: api.url, model: "clip", maxRetries: 1 } }, doc(["red", "[red]"])),
    ).rejects.toThrow();
    api.failNext(0, 500);
  });
});
