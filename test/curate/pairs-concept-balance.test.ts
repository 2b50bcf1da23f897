import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CurateItem, StageOutcome } from "../../src/curate/stage.ts";
import { conceptBalance, scaleToTarget } from "../../src/curate/stages/pairs/concept-balance.ts";
import { conceptsOf } from "../../src/curate/stages/pairs/concepts.ts";
import { pairItem, runStage, stageContext } from "../helpers/stage-context.ts";

const outputIds = (outs: StageOutcome[]) =>
  outs.flatMap((o) => (o.kind === "keep" ? o.items.map((i) => i.id) : []));

/** 90 captions about dogs, 10 about okapis. */
const skewed = (): CurateItem[] =>
  Array.from({ length: 100 }, (_, i) =>
    pairItem(
      `p${i}`,
      undefined,
      i < 90 ? `a brown dog running in the park ${i}` : `an okapi eating leaves ${i}`,
    ),
  );

const share = (items: CurateItem[], outs: StageOutcome[], word: string) => {
  const ids = outputIds(outs).map((id) => id.split("#")[0]!);
  const byId = new Map(items.map((i) => [i.id, String(i.fields.caption)]));
  return ids.filter((id) => byId.get(id)!.includes(word)).length / ids.length;
};

describe("concepts", () => {
  it("takes content words, folds plurals and drops stop words, or matches a vocabulary", () => {
    expect(conceptsOf("Two red apples on a wooden table")).toEqual(["red", "apple", "wooden", "table"]);
    expect(conceptsOf("a golden retriever near the boxes", ["golden retriever", "box", "cat"])).toEqual([
      "golden retriever",
      "box",
    ]);
  });
});

describe("concept-balance", () => {
  it("moves the output toward the rare concept, near the target size, deciding by id", async () => {
    const items = skewed();
    const out = await runStage(conceptBalance, { targetSize: 60, maxCopies: 3 }, items);
    const ids = outputIds(out);
    expect(Math.abs(ids.length - 60)).toBeLessThanOrEqual(8);
    expect(share(items, out, "okapi")).toBeGreaterThan(0.3);
    expect(out.some((o) => o.kind === "drop" && o.reason === "resampled_out")).toBe(true);
    // Okapi items (weight capped at 3) are repeated, with suffixed ids; the first copy keeps the id.
    expect(ids).toContain("p95#2");
    expect(ids).toContain("p95");
    const again = await runStage(conceptBalance, { targetSize: 60, maxCopies: 3 }, items);
    expect(again).toEqual(out);
    const kept = out.find((o) => o.kind === "keep") as { items: CurateItem[] };
    expect(kept.items[0]!.fields).toMatchObject({
      concepts: expect.any(Array),
      sampleWeight: expect.any(Number),
    });
  });

  it("reads concepts from a vocabulary file relative to the pipeline folder", async () => {
    const items = skewed();
    const ctx = stageContext(items);
    writeFileSync(join(ctx.baseDir, "vocab.txt"), "# animals\ndogs\nokapi\n");
    const out = await runStage(conceptBalance, { vocabulary: "vocab.txt", maxCopies: 10 }, items, ctx);
    expect(share(items, out, "okapi")).toBeGreaterThan(0.4);
  });

  it("scales weights so the capped expected copies sum to the target", () => {
    const weights = [1, 1, 1, 10];
    const s = scaleToTarget(weights, 6, 2);
    expect(weights.reduce((sum, w) => sum + Math.min(2, s * w), 0)).toBeCloseTo(6, 6);
  });
});
