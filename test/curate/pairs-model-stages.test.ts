import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clipFilter } from "../../src/curate/stages/pairs/clip-filter.ts";
import { recaption } from "../../src/curate/stages/pairs/recaption.ts";
import { type OpenAiLikeServer, startOpenAiLikeServer } from "../helpers/openai-like-server.ts";
import { solidImage } from "../helpers/pairs-images.ts";
import { pairItem, runStage, verdict } from "../helpers/stage-context.ts";

let api: OpenAiLikeServer;
beforeAll(async () => {
  api = await startOpenAiLikeServer();
});
afterAll(() => api.close());

describe("clip-filter", () => {
  it("keeps a caption that matches its image, drops one that does not, and stores clipScore", async () => {
    const red = await solidImage(64, 64, [220, 30, 30], "jpeg");
    const items = [
      pairItem("match", red, "a red square"),
      pairItem("mismatch", red, "a blue square"),
      pairItem("no-caption", red, ""),
    ];
    for (const imageInput of ["input", "messages"]) {
      const out = await runStage(
        clipFilter,
        { hook: { url: api.url, model: "clip", imageInput }, minScore: 0.5 },
        items,
      );
      expect(out.map(verdict)).toEqual(["keep", "low_clip_score", "low_clip_score"]);
      expect(out[0]).toMatchObject({ items: [{ fields: { clipScore: expect.any(Number) } }] });
      const first = out[0]!;
      const score = first.kind === "keep" ? Number(first.items[0]!.fields.clipScore) : Number.NaN;
      expect(score).toBeGreaterThan(0.5);
    }
  });

  it("rejects options without a hook", () => {
    expect(() => clipFilter.options.parse({ minScore: 0.3 })).toThrow();
  });
});

describe("recaption", () => {
  it("puts the original caption and the image in the prompt and keeps the original in originalCaption", async () => {
    api.setChatRule(({ text, imageColours }) => {
      const original = /"(.*)"/.exec(text)?.[1] ?? "";
      return `Caption: ${original}, shown as a ${imageColours[0]} square.`;
    });
    const item = pairItem("r", await solidImage(32, 32, [30, 180, 40], "jpeg"), "Logo of ACME Corp, 1999");
    const [out] = await runStage(recaption, { hook: { url: api.url, model: "vlm" } }, [item]);
    expect(out).toMatchObject({
      kind: "keep",
      items: [
        {
          fields: {
            caption: "Logo of ACME Corp, 1999, shown as a green square.",
            originalCaption: "Logo of ACME Corp, 1999",
          },
        },
      ],
    });
  });

  it("keeps the original caption and says why on an empty answer or a failing server, never dropping", async () => {
    const item = pairItem("r", await solidImage(32, 32, [30, 50, 220], "jpeg"), "a blue tile");
    api.setChatRule(() => "  ");
    const [empty] = await runStage(recaption, { hook: { url: api.url, model: "vlm" } }, [item]);
    expect(empty).toMatchObject({
      kind: "keep",
      items: [{ fields: { caption: "a blue tile", recaptionError: expect.stringMatching(/^empty answer/) } }],
    });
    api.setChatRule(() => ({ status: 500 }));
    const [failed] = await runStage(recaption, { hook: { url: api.url, model: "vlm", maxRetries: 1 } }, [
      item,
    ]);
    expect(failed).toMatchObject({
      kind: "keep",
      items: [{ fields: { caption: "a blue tile", recaptionError: expect.stringMatching(/HTTP 500/) } }],
    });
  });
});
