/**
 * `grounding-scenes`: images of several objects (shapes of named colours and sizes, drawn with sharp from SVG),
 * each with its box in pixels and in GLM-V's 0–999 coordinates, and grounding questions in GLM-V's answer format:
 * one object by a referring expression (`[[x1,y1,x2,y2]]`), every object of a kind (`[[…],[…]]`), and every
 * object with its label (detection JSON `[{"label","bbox_2d"}]`), each answer inside the box tokens.
 */
import sharp from "sharp";
import { z } from "zod";
import { type Box, formatBox, pixelRectToBox } from "../../data/tasks/coords.ts";
import { GlmvError } from "../../util/errors.ts";
import type { Rng } from "../../util/rng.ts";
import type { CurateItem, SourceDef } from "../stage.ts";
import {
  glmBox,
  IMAGE_FORMAT_OPTION,
  imageItem,
  itemRng,
  qaMessages,
  SHARDING_OPTIONS,
  shardCountOf,
  shardIndices,
} from "./common.ts";
import { layoutScene, objectLabel, referringExpression, type Scene, sceneSvg } from "./scene-layout.ts";

const NAME = "grounding-scenes";
/** Scenes redrawn before giving up on an item with at least two objects and one nameable object. */
const MAX_ATTEMPTS = 20;

export const GroundingScenesOptions = z
  .object({
    ...SHARDING_OPTIONS,
    width: z.number().int().min(64).max(4096).default(512),
    height: z.number().int().min(64).max(4096).default(512),
    /** Objects per image, [min, max]; at least two. */
    objects: z
      .tuple([z.number().int().min(2), z.number().int().max(20)])
      .default([2, 6])
      .refine(([lo, hi]) => lo <= hi, "objects: min must be ≤ max"),
    format: IMAGE_FORMAT_OPTION,
  })
  .strict();
export type GroundingScenesOptions = z.infer<typeof GroundingScenesOptions>;

/** One grounding question with its gold answer (the reward's label) and the GLM-V response (answer in box tokens). */
export type GroundingQa = {
  kind: "refer" | "find_all" | "detect";
  question: string;
  answer: string;
  response: string;
};

const qa = (kind: GroundingQa["kind"], question: string, answer: string): GroundingQa => ({
  kind,
  question,
  answer,
  response: glmBox(answer),
});

const boxList = (boxes: Box[]) => `[${boxes.map(formatBox).join(",")}]`;

/** The questions a scene supports: every nameable object, one shape's objects, and the full detection list. */
export function sceneQuestions(rng: Rng, scene: Scene, boxes: Box[]): GroundingQa[] {
  const out: GroundingQa[] = [];
  const nameable = scene.objects.map((_, i) => i).filter((i) => referringExpression(scene, i) !== null);
  for (const i of rng.shuffle(nameable).slice(0, 2)) {
    const expr = referringExpression(scene, i)!;
    out.push(qa("refer", `Locate ${expr} in the image and give its bounding box.`, boxList([boxes[i]!])));
  }
  const shape = rng.pick(scene.objects).shape;
  const ofShape = scene.objects.map((o, i) => (o.shape === shape ? i : -1)).filter((i) => i >= 0);
  out.push(qa("find_all", `Find every ${shape} in the image.`, boxList(ofShape.map((i) => boxes[i]!))));
  const detections = scene.objects.map((o, i) => ({ label: objectLabel(o), bbox_2d: boxes[i]! }));
  out.push(
    qa(
      "detect",
      "Detect all objects in the image and label each with its colour and shape.",
      JSON.stringify(detections),
    ),
  );
  return out;
}

async function* generateScenes(o: GroundingScenesOptions, shard: number): AsyncIterable<CurateItem> {
  for (const index of shardIndices(o, shard)) {
    let scene: Scene | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const candidate = layoutScene(
        itemRng(NAME, o.seed, index, attempt),
        o.width,
        o.height,
        o.objects[0],
        o.objects[1],
      );
      const nameable = candidate.objects.some((_, i) => referringExpression(candidate, i) !== null);
      if (candidate.objects.length >= 2 && nameable) {
        scene = candidate;
        break;
      }
    }
    if (!scene)
      throw new GlmvError("bad_config", `cannot place ${o.objects[0]} objects on ${o.width}×${o.height}`, {
        where: `${NAME}.objects`,
      });
    const boxes = scene.objects.map(({ px: [x1, y1, x2, y2] }) =>
      pixelRectToBox(x1, y1, x2 - x1, y2 - y1, o.width, o.height),
    );
    const questions = sceneQuestions(itemRng(`${NAME}/qa`, o.seed, index), scene, boxes);
    const image = sharp(Buffer.from(sceneSvg(scene)));
    const bytes =
      o.format === "png" ? await image.png().toBuffer() : await image.jpeg({ quality: 92 }).toBuffer();
    const first = questions[0]!;
    yield imageItem(
      NAME,
      shard,
      index,
      { format: o.format, bytes },
      {
        width: o.width,
        height: o.height,
        boxes: scene.objects.map((obj, i) => ({ label: objectLabel(obj), box: boxes[i], px: obj.px })),
        domain: "grounding",
        question: first.question,
        answer: first.answer,
        qa: questions,
        messages: qaMessages(first.question, first.response),
      },
    );
  }
}

/** Multi-object grounding scenes with boxes in pixels and 0–999, and referring / find-all / detection questions. */
export const groundingScenesSource: SourceDef<GroundingScenesOptions> = {
  name: NAME,
  summary:
    "scenes of ≥ 2 coloured shapes with boxes (pixels and 0–999) and GLM-V grounding questions and answers",
  options: GroundingScenesOptions,
  shardCount: shardCountOf,
  generate: (o, shard) => generateScenes(o, shard),
};
