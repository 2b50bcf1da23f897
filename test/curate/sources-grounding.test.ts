import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { groundingScenesSource } from "../../src/curate/sources/grounding-scenes.ts";
import { findSource } from "../../src/curate/sources/index.ts";
import {
  COLOURS,
  referringExpression,
  type Scene,
  type SceneObject,
} from "../../src/curate/sources/scene-layout.ts";
import type { CurateItem } from "../../src/curate/stage.ts";
import { pixelRectToBox } from "../../src/data/tasks/coords.ts";
import { scoreItem } from "../../src/reward/system.ts";

async function collect(options: unknown, shard: number): Promise<CurateItem[]> {
  const o = groundingScenesSource.options.parse(options);
  const out: CurateItem[] = [];
  for await (const item of groundingScenesSource.generate(o, shard, { baseDir: "/" })) out.push(item);
  return out;
}

type BoxField = { label: string; box: number[]; px: [number, number, number, number] };

const hex = (h: string) => [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16));

/** The bounding box of the pixels near `rgb` inside `[x1,y1,x2,y2]` grown by `pad` (exclusive right/bottom). */
function inkBox(
  img: { data: Buffer; width: number; height: number },
  rgb: number[],
  [x1, y1, x2, y2]: number[],
  pad: number,
): number[] | null {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -1, -1];
  for (let y = Math.max(0, y1! - pad); y < Math.min(img.height, y2! + pad); y++)
    for (let x = Math.max(0, x1! - pad); x < Math.min(img.width, x2! + pad); x++) {
      const o = (y * img.width + x) * 3;
      if (rgb.every((c, k) => Math.abs(img.data[o + k]! - c) < 60)) {
        minX = Math.min(minX, x);
        minY = Math.min(minY, y);
        maxX = Math.max(maxX, x);
        maxY = Math.max(maxY, y);
      }
    }
  return maxX < 0 ? null : [minX, minY, maxX + 1, maxY + 1];
}

describe("grounding-scenes source", () => {
  it("is registered", () => {
    expect(findSource("grounding-scenes")).toBe(groundingScenesSource);
  });

  it("draws ≥ 2 objects whose pixel boxes hug the drawn shapes, with 0–999 boxes from the same rectangles", async () => {
    const items = await collect({ count: 4, shardSize: 4, seed: 11, width: 320, height: 240 }, 0);
    expect(items).toHaveLength(4);
    for (const item of items) {
      const { data, info } = await sharp(item.media[0]!.bytes)
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([320, 240]);
      const boxes = item.fields.boxes as BoxField[];
      expect(boxes.length).toBeGreaterThanOrEqual(2);
      for (const b of boxes) {
        const [x1, y1, x2, y2] = b.px;
        expect(b.box).toEqual([...pixelRectToBox(x1, y1, x2 - x1, y2 - y1, 320, 240)]);
        const colour = b.label.split(" ")[0] as keyof typeof COLOURS;
        const drawn = inkBox({ data, width: 320, height: 240 }, hex(COLOURS[colour]), b.px, 4);
        expect(drawn, `${item.id} ${b.label}`).not.toBeNull();
        for (const [k, v] of drawn!.entries())
          expect(Math.abs(v - b.px[k]!), `${item.id} ${b.label} edge ${k}`).toBeLessThanOrEqual(2);
      }
    }
  });

  it("writes GLM-V grounding answers that the reward system scores 1 against themselves", async () => {
    const [item] = await collect({ count: 1, shardSize: 1, seed: 3 }, 0);
    const qa = item!.fields.qa as { kind: string; question: string; answer: string; response: string }[];
    expect(qa.map((q) => q.kind)).toContain("detect");
    expect(qa[0]!.kind).toBe("refer");
    expect(qa[0]!.answer).toMatch(/^\[\[\d+,\d+,\d+,\d+\]\]$/);
    for (const q of qa) {
      expect(q.response).toBe(`<|begin_of_box|>${q.answer}<|end_of_box|>`);
      const scored = scoreItem({
        id: "x",
        domain: "grounding",
        style: "4.5v",
        response: `<think>looking</think>${q.response}`,
        answer: q.answer,
      });
      expect(scored.reward, q.question).toBe(1);
    }
  });

  it("names an object with the fewest words that single it out", () => {
    const obj = (
      shape: SceneObject["shape"],
      colour: SceneObject["colour"],
      size: SceneObject["size"],
      x: number,
    ): SceneObject => ({
      shape,
      colour,
      size,
      px: [x, 10, x + 20, 30],
    });
    const scene: Scene = {
      width: 400,
      height: 100,
      background: ["#fff", "#fff"],
      objects: [
        obj("circle", "red", "small", 10),
        obj("circle", "red", "large", 100),
        obj("square", "blue", "small", 200),
        obj("circle", "red", "large", 300),
      ],
    };
    expect(referringExpression(scene, 2)).toBe("the blue square");
    expect(referringExpression(scene, 0)).toBe("the small circle");
    expect(referringExpression(scene, 1)).toBe("the leftmost large red circle");
    expect(referringExpression(scene, 3)).toBe("the rightmost red circle");
  });

  it("is the same on a rerun and shards by global index", async () => {
    const a = await collect({ count: 3, shardSize: 2, seed: 5 }, 1);
    const b = await collect({ count: 3, shardSize: 2, seed: 5 }, 1);
    expect(a.map((i) => i.id)).toEqual(["grounding-scenes-1-2"]);
    expect(Buffer.from(a[0]!.media[0]!.bytes).equals(Buffer.from(b[0]!.media[0]!.bytes))).toBe(true);
    expect(a[0]!.fields).toEqual(b[0]!.fields);
  });
});
