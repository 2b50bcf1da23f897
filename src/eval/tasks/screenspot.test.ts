import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { extractAnswer } from "../extract.ts";
import type { ItemVerdict } from "../types.ts";
import { createScreenspotTask, type ScreenspotItem, task } from "./screenspot.ts";

const BENCH = join(import.meta.dirname, "../../../test/benchmarks/screenspot");
const SEECLICK = join(BENCH, "seeclick/screenspot_test");
const PRO = join(BENCH, "pro/annotations");

const score = (items: ScreenspotItem[], answers: string[]): ItemVerdict[] =>
  task.scoreAll(items.map((item, i) => ({ item, response: answers[i]!, answer: answers[i]! })));

describe("screenspot: SeeClick v1/v2 layout (per-platform JSON + screenspot_imgs/)", () => {
  it("loads every platform file; platform from the file name; [x,y,w,h] px → fractions of the read image size", async () => {
    const items = await task.load(SEECLICK);
    expect(items.map((i) => i.id)).toEqual([
      "screenspot_mobile:0",
      "screenspot_mobile:1",
      "screenspot_web:0",
    ]);
    expect(items.map((i) => [i.fields.platform, i.fields.ui_type, i.fields.source])).toEqual([
      ["mobile", "icon", "ios"],
      ["mobile", "text", "android"],
      ["web", "text", "gitlab"],
    ]);
    const [first] = items;
    expect(first!.fields).toMatchObject({ bbox_format: "xywh", img_size: [39, 84] });
    expect(first!.gold).toEqual([3.9 / 39, 8.4 / 84, (3.9 + 7.8) / 39, (8.4 + 8.4) / 84]);
    expect(first!.images).toEqual([{ path: expect.stringMatching(/screenspot_imgs\/mobile_0a1b2c\.png$/) }]);
  });

  it("prompts: GLM's pinpoint prompt by default, SeeClick's point prompt on request", async () => {
    const [glm] = await task.load(SEECLICK);
    expect(glm!.prompt).toBe(
      "Please pinpoint the bounding box [[x1,y1,x2,y2], …] in the image as per the given description. open settings",
    );
    const [official] = await createScreenspotTask({ prompt: "official" }).load(SEECLICK);
    expect(official!.prompt).toBe(
      'In this UI screenshot, what is the position of the element corresponding to the command "open settings" (with point)?',
    );
  });

  it("a screenshot that is nowhere to be found names the record", async () => {
    const dir = await mkdtemp(join(tmpdir(), "screenspot-"));
    try {
      const file = join(dir, "screenspot_desktop.json");
      await writeFile(
        file,
        JSON.stringify([
          {
            img_filename: "gone.png",
            bbox: [0, 0, 1, 1],
            instruction: "x",
            data_type: "text",
            data_source: "macos",
          },
        ]),
      );
      await expect(task.load(file)).rejects.toThrow(/gone\.png.*screenspot_desktop\.json:\[0\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("screenspot: ScreenSpot-Pro layout (annotations/ + images/)", () => {
  it("uses the record's id, xyxy box, img_size, platform, application and group", async () => {
    const items = await task.load(PRO);
    expect(items.map((i) => i.id)).toEqual(["vscode_macos_0", "vscode_macos_1"]);
    expect(items[0]!.fields).toMatchObject({
      bbox_format: "xyxy",
      img_size: [96, 60],
      platform: "macos",
      source: "vscode",
      group: "Dev",
      ui_type: "icon",
    });
    expect(items[0]!.gold).toEqual([0.5, 0.5, 1, 1]);
    expect(items[0]!.images).toEqual([
      { path: expect.stringMatching(/pro\/images\/vscode_macos\/screenshot_.*\.png$/) },
    ]);
  });
});

describe("screenspot: scoring", () => {
  it("point inside or on the edge of the gold box is right; a box counts by its centre; unreadable is wrong_format", async () => {
    const items = await task.load(PRO); // gold [0.5, 0.5, 1, 1] and [0, 0, 0.25, 0.1]
    const pick = (i: number) => items[i]!;
    const verdicts = score(
      [pick(0), pick(0), pick(0), pick(1), pick(1)],
      ["[500, 500]", "[[400,400,600,600]]", "[499, 600]", "[250, 100]", "the File menu"],
    );
    expect(verdicts).toEqual([
      { score: 1, extracted: "(0.5,0.5)" },
      { score: 1, extracted: "(0.5,0.5)" },
      { score: 0, extracted: "(0.499,0.6)" },
      { score: 1, extracted: "(0.25,0.1)" },
      { score: 0, extracted: null },
    ]);
  });

  it("a GLM response is read from its box; unextracted, the box tokens' 'box' sends it down SeeClick's Qwen path", async () => {
    const [item] = await task.load(PRO); // gold [0.5, 0.5, 1, 1]
    const response =
      "<think>The puzzle icon, lower right.</think><answer><|begin_of_box|>[[700,700,800,800]]<|end_of_box|></answer>";
    const glm = extractAnswer(response, "auto", task.answerScope).answer;
    const official = extractAnswer(response, "official", task.answerScope).answer;
    expect(task.scoreAll([{ item: item!, response, answer: glm }])).toEqual([
      { score: 1, extracted: "(0.75,0.75)" },
    ]);
    expect(task.scoreAll([{ item: item!, response, answer: official }])).toEqual([
      { score: 0, extracted: null },
    ]);
  });

  it("summary: accuracy %, the papers' platform × text/icon table, and the wrong_format count", async () => {
    const items = [...(await task.load(SEECLICK)), ...(await task.load(PRO))];
    // mobile icon gold ≈ [0.1, 0.1, 0.3, 0.2]; mobile text [0, 0.5, 1, 0.55]; web text [0.5, 0, 1, 0.5].
    const answers = ["[200, 150]", "[10, 10]", "[[600,100,800,300]]", "[700, 700]", "garbled"];
    const verdicts = score(items, answers);
    expect(verdicts.map((v) => v.score)).toEqual([1, 0, 1, 1, 0]);
    const summary = task.summarize(items, verdicts);
    expect(summary).toMatchObject({ headline: 60, metric: "accuracy", unit: "%", accuracy: 0.6 });
    expect(summary.breakdowns.table).toEqual({
      "mobile/icon": { n: 1, score: 1 },
      "mobile/text": { n: 1, score: 0 },
      "web/text": { n: 1, score: 1 },
      "Dev/icon": { n: 1, score: 1 },
      "Dev/text": { n: 1, score: 0 },
    });
    expect(summary.breakdowns.ui_type).toEqual({ icon: { n: 2, score: 1 }, text: { n: 3, score: 1 / 3 } });
    expect(summary.breakdowns.format).toEqual({
      read: { n: 4, score: 0.75 },
      wrong_format: { n: 1, score: 0 },
    });
  });

  it("fromRecord rebuilds an item from its saved fields (no image read)", async () => {
    const [item] = await task.load(SEECLICK);
    const saved = JSON.parse(JSON.stringify({ id: item!.id, ...item!.fields, response: "[200, 150]" }));
    const back = task.fromRecord(saved, 3);
    expect(back.item).toMatchObject({ id: item!.id, gold: item!.gold, fields: item!.fields, images: [] });
    expect(back.response).toBe("[200, 150]");
    expect(() => task.fromRecord({ ...saved, img_size: undefined }, 4)).toThrow(/img_size.*line 4/);
  });

  it("an unknown bbox_format is an error naming the field", () => {
    const record = {
      bbox: [0, 0, 1, 1],
      bbox_format: "cxcywh",
      instruction: "x",
      ui_type: "icon",
      response: "x",
    };
    expect(() => task.fromRecord(record, 5)).toThrow(
      /bbox_format must be one of xywh, xyxy, xyxy-fraction.*line 5\.bbox_format/,
    );
  });

  it("the hub layout (rootsautomation/ScreenSpot): boxes already in fractions need no image size", () => {
    const { item } = task.fromRecord(
      {
        file_name: "web_1.png",
        bbox: [0.25, 0.5, 0.5, 0.75],
        instruction: "search",
        data_type: "icon",
        data_source: "shop",
        response: "x",
      },
      1,
    );
    expect(item.fields).toMatchObject({ bbox_format: "xyxy-fraction", platform: "web", ui_type: "icon" });
    expect(item.gold).toEqual([0.25, 0.5, 0.5, 0.75]);
  });
});
