import { describe, expect, it } from "vitest";
import { SPECIAL_TOKENS } from "../../model/special-tokens.ts";
import { readDetections, toThousandths } from "../detection-parse.ts";
import { scoreInputError } from "../item-schema.ts";
import { scoreItem } from "../system.ts";
import type { BoxReward, VerifyContext } from "../types.ts";
import { verifyDetection } from "./detection.ts";
import { verifyGrounding } from "./grounding.ts";

const { beginBox, endBox } = SPECIAL_TOKENS;

type Obj = { label?: string; bbox_2d: number[] };
const json = (objects: Obj[]) => JSON.stringify(objects);
const CAT_A: Obj = { label: "cat", bbox_2d: [100, 100, 300, 300] };
const CAT_B: Obj = { label: "cat", bbox_2d: [500, 100, 700, 300] };
const DOG: Obj = { label: "dog", bbox_2d: [100, 500, 400, 900] };
const GOLD = json([CAT_A, CAT_B, DOG]);
/** CAT_A moved 20 right: IoU 36000 / 44000 = 9/11. */
const SHIFTED: Obj = { label: "cat", bbox_2d: [120, 100, 320, 300] };
const SHIFTED_IOU = 9 / 11;
/** Forty plausible boxes elsewhere on the image ("every box on the image"). */
const OTHERS: Obj[] = Array.from({ length: 40 }, (_, k) => ({
  label: k % 2 ? "cat" : "dog",
  bbox_2d: [(k % 8) * 120, 920 + (k % 3) * 20, (k % 8) * 120 + 100, 960 + (k % 3) * 10],
}));
const WHOLE = (label: string): Obj => ({ label, bbox_2d: [0, 0, 999, 999] });

const scoreIn = (mode: BoxReward, pred: string, gold = GOLD, ctx: VerifyContext = {}) =>
  verifyDetection(pred, gold, { ...ctx, boxReward: mode });

describe("verifyDetection: answers × golds, each reward mode", () => {
  // [name, answer, iou, threshold@0.5, coco, correct]
  const table: [string, string, number, number, number, boolean][] = [
    [
      "exact, another order, labels in another case",
      json([DOG, CAT_B, { ...CAT_A, label: " CAT " }]),
      1,
      1,
      1,
      true,
    ],
    [
      "one box 20 off",
      json([SHIFTED, CAT_B, DOG]),
      (SHIFTED_IOU + 2) / 3,
      (2 * (SHIFTED_IOU + 2)) / 6,
      // found at 0.50…0.80 (7 thresholds), missed at 0.85, 0.90, 0.95
      (7 * ((2 * (SHIFTED_IOU + 2)) / 6) + 3 * (4 / 6)) / 10,
      true,
    ],
    ["the dog called a cat", json([CAT_A, CAT_B, { ...DOG, label: "cat" }]), 2 / 3, 4 / 6, 4 / 6, false],
    ["the dog missed", json([CAT_A, CAT_B]), 2 / 3, 4 / 5, 4 / 5, false],
    [
      "one extra object",
      json([CAT_A, CAT_B, DOG, { label: "bird", bbox_2d: [800, 800, 900, 900] }]),
      3 / 4,
      6 / 7,
      6 / 7,
      false,
    ],
    [
      "plain boxes against several labels",
      "[[100,100,300,300],[500,100,700,300],[100,500,400,900]]",
      0,
      0,
      0,
      false,
    ],
    ["every box twice", json([CAT_A, CAT_A, CAT_B, CAT_B, DOG, DOG]), 3 / 6, 6 / 9, 6 / 9, false],
    [
      "every box ten times",
      json(Array.from({ length: 10 }, () => [CAT_A, CAT_B, DOG]).flat()),
      3 / 30,
      6 / 33,
      6 / 33,
      false,
    ],
    [
      "one whole-image box per label",
      json([WHOLE("cat"), WHOLE("dog")]),
      (40_000 / 998_001 + 120_000 / 998_001) / 3,
      0,
      0,
      false,
    ],
    [
      "the gold boxes and every other box on the image",
      json([CAT_A, CAT_B, DOG, ...OTHERS]),
      3 / 43,
      6 / 46,
      6 / 46,
      false,
    ],
  ];
  it.each(table)("%s", (_name, answer, iouScore, thresholdScore, cocoScore, correct) => {
    expect(scoreIn("iou", answer).score).toBeCloseTo(iouScore, 9);
    expect(scoreIn("threshold", answer).score).toBeCloseTo(thresholdScore, 9);
    expect(scoreIn("coco", answer).score).toBeCloseTo(cocoScore, 9);
    for (const mode of ["iou", "threshold", "coco"] as const)
      expect(scoreIn(mode, answer).correct).toBe(correct);
  });

  it("anti-hacking: duplicates, whole-image boxes and box carpets score low in every mode", () => {
    for (const mode of ["iou", "threshold", "coco"] as const) {
      const exact = scoreIn(mode, GOLD).score;
      for (const [name, answer] of table.slice(6)) {
        const { score } = scoreIn(mode, answer!);
        expect(score, `${mode} ${name}`).toBeLessThan(exact);
        if (name !== "every box twice") expect(score, `${mode} ${name}`).toBeLessThan(0.2);
      }
    }
  });

  it("anti-hacking: an answer with hundreds of boxes is not a detection answer", () => {
    const carpet = json(
      Array.from({ length: 300 }, (_, k) => ({
        label: "cat",
        bbox_2d: [(k % 20) * 50, Math.floor(k / 20) * 60, (k % 20) * 50 + 49, Math.floor(k / 20) * 60 + 59],
      })),
    );
    for (const mode of ["iou", "threshold", "coco"] as const) {
      expect(scoreIn(mode, carpet)).toEqual({ score: 0, correct: false, reason: "more than 100 objects" });
    }
  });

  it("defaults to the continuous reward, and to the threshold reward when a threshold is set", () => {
    const answer = json([SHIFTED, CAT_B, DOG]);
    expect(verifyDetection(answer, GOLD, {}).score).toBeCloseTo((SHIFTED_IOU + 2) / 3, 9);
    const strict = verifyDetection(answer, GOLD, { iouThreshold: 0.85 });
    expect(strict.score).toBeCloseTo(4 / 6, 9);
    expect(strict).toMatchObject({
      correct: false,
      reason: "IoU@0.85 0.6667: 2 of 3 gold objects found at IoU ≥ 0.85, 1 extra",
    });
  });

  it("unlabelled answers match a single-label gold; labels compare case-insensitively after trimming only", () => {
    const cats = json([CAT_A, CAT_B]);
    expect(verifyDetection("[[100,100,300,300],[500,100,700,300]]", cats, {})).toMatchObject({
      score: 1,
      correct: true,
    });
    expect(verifyDetection(json([{ ...CAT_A, label: "Cat\n" }, CAT_B]), cats, {}).score).toBe(1);
    expect(verifyDetection(json([{ ...CAT_A, label: "cats" }, CAT_B]), cats, {}).score).toBeCloseTo(0.5, 9);
  });

  it("an unlabelled gold ignores the answer's labels", () => {
    const r = verifyDetection(json([CAT_A]), "[[100,100,300,300]]", {});
    expect(r).toMatchObject({ score: 1, correct: true });
    expect(r.reason).toMatch(/labels not compared/);
  });

  it("empty lists: nothing to find", () => {
    expect(verifyDetection("[]", "[]", { boxReward: "coco" })).toMatchObject({ score: 1, correct: true });
    expect(verifyDetection(json([CAT_A]), "[]", { boxReward: "threshold" })).toMatchObject({ score: 0 });
  });
});

describe("verifyDetection: formats", () => {
  it.each([
    ["box tokens around the JSON", `${beginBox}${GOLD}${endBox}`],
    [
      "box tokens around each bbox_2d",
      `[${[CAT_A, CAT_B, DOG].map((o) => `{"label": "${o.label}", "bbox_2d": ${beginBox}${JSON.stringify(o.bbox_2d)}${endBox}}`).join(", ")}]`,
    ],
    ["a ```json fence", `\`\`\`json\n${GOLD}\n\`\`\``],
    ["Python-literal quotes (ROLL / V-Triune data)", GOLD.replaceAll('"', "'")],
    [
      "[[x1,y1,x2,y2]] in bbox_2d",
      json([CAT_A, CAT_B, DOG]).replaceAll(/"bbox_2d":(\[[^\]]*\])/g, '"bbox_2d":[$1]'),
    ],
    ["text around the JSON", `Here they are: ${GOLD}.`],
  ])("%s", (_name, answer) => {
    expect(verifyDetection(answer, GOLD, { boxReward: "coco" })).toMatchObject({ score: 1, correct: true });
  });

  it.each([
    ["truncated JSON", GOLD.slice(0, -3), /^malformed detection JSON: /],
    ["an object without bbox_2d", '[{"label": "cat", "box": [1, 2, 3, 4]}]', /object 1 has no bbox_2d/],
    ["three numbers", '[{"label": "cat", "bbox_2d": [1, 2, 3]}]', /object 1: a box has 3 numbers, not 4/],
    ["x1 > x2", '[{"label": "cat", "bbox_2d": [30, 2, 3, 4]}]', /object 1: a box has x1 > x2/],
    ["a coordinate of 1000", '[{"label": "cat", "bbox_2d": [0, 0, 1000, 4]}]', /outside 0–999/],
    ["a label that is not text", '[{"label": 3, "bbox_2d": [1, 2, 3, 4]}]', /label is not text/],
    ["numbers outside the JSON", `The objects: ${GOLD} and 42 more`, /numbers outside the JSON/],
    ["text after a JSON answer", `${GOLD} 42`, /^malformed detection JSON: /],
    ["two code blocks", `\`\`\`json\n${GOLD}\n\`\`\`\n\`\`\`json\n${GOLD}\n\`\`\``, /several code blocks/],
    [
      "a 3-D box",
      '[{"label": "cat", "bbox_3d": [1, 2, 3, 4, 5, 6, 0, 0, 0]}]',
      /^unsupported: 3-D boxes \(bbox_3d\)/,
    ],
    [
      "a point object",
      '[{"label": "cat", "point_2d": [120, 340]}]',
      /^unsupported: point answers \(point_2d\)/,
    ],
    ["a plain point", "[120, 340]", /^unsupported: a point \[x, y\] is not a box/],
  ])("%s scores 0 with the reason", (_name, answer, reason) => {
    const r = verifyDetection(answer, GOLD, {});
    expect(r.score).toBe(0);
    expect(r.correct).toBe(false);
    expect(r.reason).toMatch(reason);
  });

  it("an unusable gold says so", () => {
    expect(verifyDetection(GOLD, '[{"label": "cat", "bbox_3d": [1, 2, 3]}]', {}).reason).toMatch(
      /^gold: unsupported/,
    );
    expect(verifyDetection(GOLD, json([CAT_A, { bbox_2d: [1, 2, 3, 4] }]), {}).reason).toMatch(
      /some objects have a label/,
    );
  });
});

describe("pixel and 0–999 frames", () => {
  const size = { width: 640, height: 480 };
  it("converts pixels to thousandths of the image", () => {
    expect(toThousandths([64, 48, 320, 240], { coords: "pixel", imageSize: size })).toEqual([
      100, 100, 500, 500,
    ]);
    expect(toThousandths([0, 0, 640, 480], { coords: "pixel", imageSize: size })).toEqual([0, 0, 1000, 1000]);
    expect(toThousandths([64, 48, 320, 240], { coords: "0-999" })).toEqual([64, 48, 320, 240]);
    expect(toThousandths([0, 0, 641, 10], { coords: "pixel", imageSize: size })).toBe(
      "a coordinate is outside the 640×480 image",
    );
    expect(readDetections("[[64, 48, 600, 240]]", { coords: "pixel", imageSize: size })).toEqual({
      ok: true,
      detections: [{ box: [100, 100, 937.5, 500], label: null }],
    });
    expect(readDetections("[[64, 48, 700, 240]]", { coords: "pixel", imageSize: size })).toEqual({
      ok: false,
      reason: "a coordinate is outside the 640×480 image",
    });
  });
  it("a pixel gold against a 0–999 answer, and pixels on both sides", () => {
    const goldPx = json([{ label: "cat", bbox_2d: [64, 48, 320, 240] }]);
    const ctx = { coords: "0-999", goldCoords: "pixel", imageSize: size } as const;
    expect(verifyDetection(json([{ label: "cat", bbox_2d: [100, 100, 500, 500] }]), goldPx, ctx).score).toBe(
      1,
    );
    // Read as 0–999, the same numbers are another box.
    expect(verifyDetection(goldPx, goldPx, ctx).score).toBeLessThan(0.3);
    expect(verifyDetection(goldPx, goldPx, { coords: "pixel", imageSize: size }).score).toBe(1);
    expect(
      verifyDetection(json([{ label: "cat", bbox_2d: [64, 48, 900, 240] }]), goldPx, {
        coords: "pixel",
        imageSize: size,
      }).reason,
    ).toMatch(/outside the 640×480 image/);
  });
  it("an item with pixel coords needs imageSize", () => {
    const item = { id: 1, domain: "grounding", response: "", answer: "[]", coords: "pixel" };
    expect(scoreInputError(item, "items.0")).toMatchObject({ code: "bad_input", where: "items.0.imageSize" });
    expect(scoreInputError({ ...item, imageSize: { width: 640, height: 480 } }, "items.0")).toBeNull();
    expect(scoreInputError({ ...item, coords: undefined, iouThreshold: 1.5 }, "items.0")?.where).toBe(
      "items.0.iouThreshold",
    );
  });
});

describe("through the grounding domain", () => {
  it("plain 0–999 boxes keep the grounding rule; labelled JSON and box options go to the detection rewards", () => {
    expect(verifyGrounding("[[5,0,15,10]]", "[[0,0,10,10]]", {}).reason).toBe("mean IoU 0.3333");
    expect(verifyGrounding(GOLD, GOLD, {}).reason).toBe(
      "mean IoU 1.0000: 3 of 3 gold objects found at IoU ≥ 0.5",
    );
    expect(verifyGrounding("[[5,0,15,10]]", "[[0,0,10,10]]", { iouThreshold: 0.5 }).score).toBe(0);
  });
  it("scoreItem: a 60-object answer passes the format gate (past its 1000-character default) and scores", () => {
    const people = json(
      Array.from({ length: 60 }, (_, k) => ({
        label: "person",
        bbox_2d: [
          (k % 10) * 100,
          Math.floor(k / 10) * 150,
          (k % 10) * 100 + 80,
          Math.floor(k / 10) * 150 + 140,
        ],
      })),
    );
    expect(people.length).toBeGreaterThan(2000);
    const response = `<think>Sixty people.</think>${beginBox}${people}${endBox}`;
    const item = { id: 1, domain: "grounding" as const, style: "4.5v" as const, answer: people, response };
    expect(scoreItem({ ...item, boxReward: "coco" })).toMatchObject({
      reward: 1,
      correct: true,
      format: "ok",
    });
    // A math box of the same length is still too long.
    expect(scoreItem({ ...item, domain: "math" })).toMatchObject({ reward: 0, format: "box_too_long" });
  });
  it("scoreItem: a GLM-4.5V response with the detection JSON in its box, item fields reaching the verifier", () => {
    const item = {
      id: "det-1",
      domain: "grounding" as const,
      style: "4.5v" as const,
      answer: json([{ label: "cat", bbox_2d: [64, 48, 320, 240] }]),
      goldCoords: "pixel" as const,
      imageSize: { width: 640, height: 480 },
      boxReward: "threshold" as const,
      iouThreshold: 0.75,
    };
    const right = `<think>One cat.</think>${beginBox}[{"label": "cat", "bbox_2d": [100, 100, 500, 500]}]${endBox}`;
    expect(scoreItem({ ...item, response: right })).toMatchObject({
      reward: 1,
      correct: true,
      stage: "verify",
    });
    const loose = `<think>One cat.</think>${beginBox}[{"label": "cat", "bbox_2d": [100, 100, 700, 500]}]${endBox}`;
    expect(scoreItem({ ...item, response: loose })).toMatchObject({ reward: 0, stage: "verify" });
  });
});
