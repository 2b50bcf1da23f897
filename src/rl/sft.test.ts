import { tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { buildSuite } from "../data/tasks/suite.ts";
import type { TaskItem } from "../data/tasks/types.ts";
import { type GlmvConfig, presetConfig } from "../model/config.ts";
import { initParams } from "../model/params.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../model/tokenizer.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import { encodeSftExample } from "./encode.ts";
import { LocalPolicy } from "./local-policy.ts";
import { createSftStream, runSft, sftBatch } from "./sft.ts";

let cfg: GlmvConfig;
let tok: GlmvTokenizer;

beforeAll(async () => {
  await initTensorEngine();
  cfg = presetConfig("tiny");
  tok = await loadTinyTokenizer();
});

describe("createSftStream", () => {
  it("fills rows first-fit in stream order, every example once per epoch, within the image slots", () => {
    const lengths = [60, 50, 40, 70, 30, 80, 20, 90];
    const images = lengths.map(() => 1);
    const shape = { rows: 2, context: 128, imageSlots: 3 };
    const next = createSftStream(lengths, images, shape, 7);
    const seen: number[] = [];
    for (let s = 0; s < 4; s++) {
      const rows = next();
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(r.reduce((a, i) => a + lengths[i]!, 0)).toBeLessThanOrEqual(128);
      expect(rows.flat().length).toBeLessThanOrEqual(3);
      seen.push(...rows.flat());
    }
    // the first epoch's 8 examples come before any repeat
    const firstEpoch = seen.slice(0, 8);
    expect(new Set(firstEpoch).size).toBe(8);
  });

  it("rejects an example longer than the context", () => {
    expect(() => createSftStream([10, 300], [0, 0], { rows: 1, context: 256, imageSlots: 0 }, 1)).toThrow(
      /more than the context/,
    );
  });
});

describe("sftBatch", () => {
  it("puts loss weight only on response predictions, summing to 1, none on padding", () => {
    const items = buildSuite({ seed: 1, perFamily: 1, families: ["counting", "math"], split: "train" });
    const enc = { cfg, tok, style: "4.1v" as const };
    const examples = items.map((it) => encodeSftExample(enc, it, "4.1v"));
    const shape = { rows: 2, context: 128, imageSlots: 2 };
    const { batch, tokens } = sftBatch({ cfg }, examples, [[0, 1], []], shape);
    const w = batch.weights.ref.dataSync() as Float32Array;
    const targets = batch.targets.ref.dataSync() as Int32Array;
    const responses = examples.reduce((a, e) => a + e.lossMask.reduce((x, y) => x + y, 0), 0);
    expect(w.filter((x) => x > 0).length).toBe(responses);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(tokens).toBe(examples[0]!.ids.length + examples[1]!.ids.length);
    // the second row is all padding: no weight at all
    expect(w.slice(128).every((x) => x === 0)).toBe(true);
    // the weighted targets are exactly the response tokens, in order
    const learnt = Array.from(targets).filter((_, i) => w[i]! > 0);
    const expected = examples.flatMap((e) => e.ids.filter((_, i) => e.lossMask[i] === 1));
    expect(learnt).toEqual(expected);
    tree.dispose(batch);
  });
});

describe("runSft", () => {
  it("learns the response format on the tiny preset: held-out responses pass the format gate", async () => {
    const families = ["counting", "math"] as const;
    const train: TaskItem[] = buildSuite({
      seed: 3,
      families: [...families],
      perFamily: 300,
      split: "train",
    });
    const heldout = buildSuite({ seed: 3, families: [...families], perFamily: 16, split: "heldout" });
    const policy = new LocalPolicy(cfg, initParams(cfg, 3), tok, { batchSize: 32, promptLen: 40 });
    try {
      const losses: number[] = [];
      const result = await runSft(
        policy,
        train,
        heldout,
        {
          steps: 30,
          rows: 8,
          context: 128,
          imageSlots: 24,
          lr: 3e-3,
          warmupSteps: 5,
          seed: 3,
          evalMaxNewTokens: 32,
        },
        { onStep: (l) => losses.push(l.loss) },
      );
      expect(losses).toHaveLength(30);
      expect(losses.at(-1)!).toBeLessThan(losses[0]! / 4);
      expect(result.fill).toBeGreaterThan(0.8);
      const report = result.evals.at(-1)!.report;
      expect(report.n).toBe(32);
      expect(report.formatOk).toBeGreaterThan(0.9);
    } finally {
      policy.dispose();
    }
  }, 180_000);
});
