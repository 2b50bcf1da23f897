import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CurateItem, StageOutcome } from "../../src/curate/stage.ts";
import { parseLabel, taxonomy } from "../../src/curate/stages/instruct/taxonomy.ts";
import { type OpenAiLikeServer, startOpenAiLikeServer } from "../helpers/openai-like-server.ts";
import { openContext, runStage } from "./stage-driver.ts";

let api: OpenAiLikeServer;
let redPng: Uint8Array;
beforeAll(async () => {
  api = await startOpenAiLikeServer();
  redPng = new Uint8Array(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 220, g: 30, b: 30 } } })
      .png()
      .toBuffer(),
  );
  // A model with habits: thinks and boxes, adds a full stop, hedges, or reads the image.
  api.setChatRule(({ text, imageColours }) => {
    const asked = text.slice(text.indexOf("Example:"));
    if (asked.includes("integral"))
      return "<think>It asks for an antiderivative.</think><|begin_of_box|>math<|end_of_box|>";
    if (asked.includes("bar chart")) return "Chart.";
    if (asked.includes("button")) return "Probably gui, or maybe chart.";
    if (imageColours.includes("red")) return "`ocr`";
    return "";
  });
});
afterAll(async () => {
  await api.close();
});

const LABELS = [
  "math",
  "chart",
  { name: "gui", description: "screenshots of apps and web pages, actions on them" },
  "ocr",
];
const hook = () => ({ url: api.url, model: "glm-test", maxRetries: 0 });

function ask(id: string, question: string, media: CurateItem["media"] = [], fields = {}): CurateItem {
  return {
    id,
    media,
    fields: {
      messages: [
        { role: "user", content: question },
        { role: "assistant", content: "…" },
      ],
      ...fields,
    },
  };
}

const fieldsOf = (o: StageOutcome | undefined) => (o?.kind === "keep" ? o.items[0]!.fields : undefined);

describe("taxonomy", () => {
  it("tags each item with the one label the model names, and unknown with the raw answer when it names none", async () => {
    const items = [
      ask("t1", "Compute the integral of x^2."),
      ask("t2", "What is the tallest bar in this bar chart?"),
      ask("t3", "Where is the submit button?"),
      ask("t4", "Read the sign.", [{ name: "0.png", bytes: redPng }]),
    ];
    const out = await runStage(taxonomy, { hook: hook(), labels: LABELS }, items, openContext("/tmp"));
    expect(out.map((o) => fieldsOf(o)?.taxonomy)).toEqual(["math", "chart", "unknown", "ocr"]);
    expect(fieldsOf(out[2])?.taxonomyRaw).toBe("Probably gui, or maybe chart.");
    expect(fieldsOf(out[0])?.taxonomyRaw).toBeUndefined();
    expect(fieldsOf(out[0])?.messages).toEqual(items[0]!.fields.messages);
  });

  it("sends the fixed prompt listing every label (with descriptions) and the item's image", async () => {
    const before = api.requests.length;
    await runStage(
      taxonomy,
      { hook: hook(), labels: LABELS },
      [ask("t5", "Read the sign.", [{ name: "0.png", bytes: redPng }])],
      openContext("/tmp"),
    );
    const req = api.requests.slice(before)[0]!;
    expect(req.path).toBe("/v1/chat/completions");
    expect(req.body).toMatchObject({ model: "glm-test", temperature: 0 });
    const content = (req.body.messages as { content: { type: string; text?: string }[] }[])[0]!.content;
    expect(content.map((p) => p.type)).toEqual(["image_url", "text"]);
    const prompt = content[1]!.text!;
    expect(prompt).toContain(
      "- math\n- chart\n- gui: screenshots of apps and web pages, actions on them\n- ocr",
    );
    expect(prompt).toMatch(/Example:\nRead the sign\.$/);
  });

  it("drops labels outside keep as off_taxonomy (unknown too, unless kept), and keeps an item's existing label", async () => {
    const before = api.requests.length;
    const items = [
      ask("k1", "Compute the integral of x^2."),
      ask("k2", "What is the tallest bar in this bar chart?"),
      ask("k3", "Where is the submit button?"),
      ask("k4", "Anything", [], { taxonomy: "chart" }),
    ];
    const out = await runStage(
      taxonomy,
      { hook: hook(), labels: LABELS, keep: ["chart"] },
      items,
      openContext("/tmp"),
    );
    expect(out.map((o) => (o.kind === "keep" ? "keep" : `${o.reason}: ${o.detail}`))).toEqual([
      "off_taxonomy: math",
      "keep",
      "off_taxonomy: unknown (answer: Probably gui, or maybe chart.)",
      "keep",
    ]);
    // the pre-labelled item was not sent
    expect(api.requests.length - before).toBe(3);
  });

  it("fails the item (not a silent unknown) when the endpoint refuses the request", async () => {
    api.failNext(1, 400);
    await expect(
      runStage(
        taxonomy,
        { hook: hook(), labels: LABELS },
        [ask("e1", "Compute the integral.")],
        openContext("/tmp"),
      ),
    ).rejects.toThrow();
  });

  it("parses strictly, and checks labels and keep when the options are read", () => {
    expect(parseLabel("CHART", ["math", "chart"])).toBe("chart");
    expect(parseLabel("'math'.", ["math", "chart"])).toBe("math");
    expect(parseLabel("The answer is math", ["math", "chart"])).toBeNull();
    expect(parseLabel("", ["math", "chart"])).toBeNull();
    expect(taxonomy.options.safeParse({ hook: hook(), labels: ["a", "A"] }).success).toBe(false);
    expect(taxonomy.options.safeParse({ hook: hook(), labels: ["a", "unknown"] }).success).toBe(false);
    const badKeep = taxonomy.options.safeParse({ hook: hook(), labels: ["a", "b"], keep: ["c"] });
    expect(badKeep.error?.issues[0]?.path).toEqual(["keep", 0]);
  });
});
