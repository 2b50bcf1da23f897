import { describe, expect, it } from "vitest";
import { parseBox, parsePoint, pointInBox } from "../../src/data/tasks/coords.ts";
import { OCR_ALPHABET } from "../../src/data/tasks/ocr.ts";
import { buildSuite, contentHash, GENERATORS, splitOfHash } from "../../src/data/tasks/suite.ts";
import { TASK_FAMILIES, type TaskFamily, type TaskItem, TEXT_CHARSET } from "../../src/data/tasks/types.ts";
import { DOMAINS } from "../../src/model/domains.ts";
import { parseCount, parsePlainNumber } from "../../src/reward/numbers.ts";
import { createRng } from "../../src/util/rng.ts";

const hashOf = (item: TaskItem) => contentHash(item.family, item);

/** The class an item was balanced on, recovered from what it shows (not from generator internals). */
function classOf(item: TaskItem): string {
  switch (item.family) {
    case "ocr":
      return item.answer[0]!;
    case "chart":
      return /^[a-d]$/.test(item.answer) ? `tallest:${item.answer}` : `value:${item.answer}`;
    case "grounding": {
      const b = parseBox(item.answer)!;
      return `r${b[1] / 250}c${b[0] / 250}`;
    }
    case "gui": {
      const b = parseBox(item.answer)!;
      return String((b[1] >= 500 ? 2 : 0) + (b[0] >= 500 ? 1 : 0));
    }
    default:
      return item.answer;
  }
}

describe("buildSuite determinism", () => {
  it("gives identical items, byte for byte, for the same options", () => {
    const a = buildSuite({ seed: 11, perFamily: 12, split: "train" });
    const b = buildSuite({ seed: 11, perFamily: 12, split: "train" });
    expect(b).toEqual(a);
    expect(Buffer.concat(b.map((i) => i.image.data)).equals(Buffer.concat(a.map((i) => i.image.data)))).toBe(
      true,
    );
    const c = buildSuite({ seed: 12, perFamily: 12, split: "train" });
    expect(c.map(hashOf)).not.toEqual(a.map(hashOf));
  });

  it("reproduces an item from its recorded seed, level and class", () => {
    for (const item of buildSuite({ seed: 3, perFamily: 6, split: "heldout" })) {
      const gen = GENERATORS[item.family];
      const again = gen.generate(createRng(item.seed), {
        level: item.level,
        answerClass: classOf(item),
        size: 56,
      });
      expect(again.image.data).toEqual(item.image.data);
      expect(again.answer).toBe(item.answer);
    }
  });
});

describe("buildSuite splits", () => {
  it("never shares an item between train and held-out, across seeds", () => {
    const train = new Set(
      [1, 2].flatMap((seed) => buildSuite({ seed, perFamily: 60, split: "train" })).map(hashOf),
    );
    const heldout = [1, 2, 3].flatMap((seed) => buildSuite({ seed, perFamily: 60, split: "heldout" }));
    for (const item of heldout) {
      expect(train.has(hashOf(item))).toBe(false);
      expect(splitOfHash(hashOf(item))).toBe("heldout");
      expect(item.split).toBe("heldout");
    }
  });

  it("assigns unique ids and the requested levels", () => {
    const items = buildSuite({ seed: 5, perFamily: 30, split: "train", levels: [2, 3] });
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    expect(new Set(items.map((i) => i.level))).toEqual(new Set([2, 3]));
    expect(
      buildSuite({ seed: 5, perFamily: 4, split: "train", families: ["math", "gui"] }).map((i) => i.family),
    ).toEqual(["math", "math", "math", "math", "gui", "gui", "gui", "gui"]);
  });

  it("rejects bad options", () => {
    expect(() => buildSuite({ seed: 1, perFamily: -1, split: "train" })).toThrow(/perFamily/);
    expect(() => buildSuite({ seed: 1, perFamily: 1, split: "train", levels: [9] })).toThrow(/level/);
  });
});

describe("buildSuite balance", () => {
  it("makes every answer class equally frequent within each family and level", () => {
    for (const family of TASK_FAMILIES) {
      for (const level of [1, 2, 3]) {
        const classes = GENERATORS[family].answerClasses(level);
        const items = buildSuite({
          seed: 9,
          perFamily: classes.length * 2,
          split: "heldout",
          families: [family],
          levels: [level],
        });
        const counts = new Map<string, number>();
        for (const item of items) counts.set(classOf(item), (counts.get(classOf(item)) ?? 0) + 1);
        expect([...counts.keys()].sort()).toEqual([...classes].sort());
        expect(new Set(counts.values())).toEqual(new Set([2]));
      }
    }
  });

  it("keeps the digit answers of counting and math uniform over a mixed-level split", () => {
    const items = buildSuite({ seed: 2, perFamily: 270, split: "train", families: ["counting", "math"] });
    for (const [family, n] of [
      ["counting", 9],
      ["math", 10],
    ] as const) {
      const counts = new Map<string, number>();
      for (const i of items.filter((x) => x.family === family))
        counts.set(i.answer, (counts.get(i.answer) ?? 0) + 1);
      expect(counts.size).toBe(n);
      // 90 items per level: 10 of each count, 9 of each math value.
      expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBe(0);
    }
  });
});

describe("buildSuite answers", () => {
  const validators: Record<TaskFamily, (item: TaskItem) => void> = {
    counting: (i) => expect(parseCount(i.answer)).toBeGreaterThanOrEqual(1),
    math: (i) => expect(parsePlainNumber(i.answer)?.integer).toBe(true),
    chart: (i) => expect(/^[a-d]$/.test(i.answer) || parsePlainNumber(i.answer) !== null).toBe(true),
    ocr: (i) => expect([...i.answer].every((c) => OCR_ALPHABET.includes(c))).toBe(true),
    grounding: (i) => expect(parseBox(i.answer)).not.toBeNull(),
    gui: (i) => expect(pointInBox(parsePoint(i.responseAnswer)!, parseBox(i.answer)!)).toBe(true),
  };

  it("gives every item a valid answer for its domain and text from the small character set", () => {
    for (const size of [28, 56]) {
      for (const item of buildSuite({ seed: 8, perFamily: 24, split: "train", size })) {
        expect(DOMAINS).toContain(item.domain);
        expect(item.domain).toBe(GENERATORS[item.family].domain);
        validators[item.family](item);
        if (item.family !== "gui") expect(item.responseAnswer).toBe(item.answer);
        for (const text of [item.question, item.cot, item.answer, item.responseAnswer]) {
          for (const ch of text) expect(TEXT_CHARSET).toContain(ch);
        }
        expect([item.image.width, item.image.height, item.image.data.length]).toEqual([
          size,
          size,
          size * size * 3,
        ]);
        expect(item.question.length).toBeLessThanOrEqual(24);
        expect(item.cot.length).toBeLessThanOrEqual(40);
      }
    }
  });
});
