/**
 * `npm run bench:trainer`: the trainer server's `forward_backward` on the tiny backend (what `glmv serve trainer
 * --preset tiny` computes for `TinkerPolicy.update`), on one GRPO-sized request: 16 rollouts (4 task prompts with
 * their images × 4 responses of 24–40 tokens), loss `ppo` with clip-higher bounds [0.8, 1.28]. Each timed call
 * follows an untimed first one (the compile) and is followed by an untimed `optim_step`, as in training. Prints
 * exactly one JSON line: {"forwardBackwardMs" (median), "runsMs", "datums", "tokens"}. BENCH_STEPS sets the timed
 * calls (default 5).
 */
import sharp from "sharp";
import { buildSuite } from "../src/data/tasks/index.ts";
import { presetConfig } from "../src/model/config.ts";
import { processRawImage } from "../src/model/processor.ts";
import { loadTinyTokenizer } from "../src/model/tokenizer.ts";
import type { Datum, ModelInputChunk } from "../src/rl/engines/tinker/tinker-protocol.ts";
import { tinyBackend } from "../src/serve/tiny-backend.ts";
import { initTensorEngine } from "../src/tensor/engine.ts";
import { mulberry32 } from "../src/util/rng.ts";
import { median, seconds } from "./lib.ts";

const STEPS = Number(process.env.BENCH_STEPS ?? 5);
const PROMPTS = 4;
const SAMPLES = 4;

await initTensorEngine();
const cfg = presetConfig("tiny");
const tok = await loadTinyTokenizer();
const v = cfg.vision;
const window = v.patchSize * v.spatialMergeSize;
const items = buildSuite({ seed: 3, perFamily: 2, split: "train", families: ["counting", "chart"] }).slice(
  0,
  PROMPTS,
);
const rand = mulberry32(7);
const data: Datum[] = [];
let tokens = 0;
for (const item of items) {
  const img = { ...item.image, channels: 3 }; // task images are RGB
  const processed = processRawImage(img, {
    minPixels: window * window,
    patchSize: v.patchSize,
    mergeSize: v.spatialMergeSize,
    temporalPatchSize: v.temporalPatchSize,
  });
  const png = await sharp(Buffer.from(img.data), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .png()
    .toBuffer();
  const head = tok.encode("[gMASK]<sop><|user|><|begin_of_image|>");
  const tail = tok.encode(`<|end_of_image|>${item.question}<|assistant|><think>`);
  const imageTokens = processed.numImageTokens;
  const promptIds: (number | null)[] = [...head, ...new Array<null>(imageTokens).fill(null), ...tail];
  for (let s = 0; s < SAMPLES; s++) {
    const response = Array.from({ length: 24 + Math.floor(rand() * 17) }, () => 3 + Math.floor(rand() * 90));
    const length = promptIds.length + response.length - 1;
    const targets = new Array<number>(length).fill(0);
    const weights = new Array<number>(length).fill(0);
    const logprobs = new Array<number>(length).fill(0);
    const advantages = new Array<number>(length).fill(0);
    for (let p = 0; p < promptIds.length - 1; p++) targets[p] = promptIds[p + 1] ?? 0;
    response.forEach((t, k) => {
      const p = promptIds.length - 1 + k;
      targets[p] = t;
      weights[p] = 1 / (response.length * PROMPTS * SAMPLES);
      logprobs[p] = -4.5 + rand();
      advantages[p] = s % 2 === 0 ? 1 : -1;
    });
    const chunks: ModelInputChunk[] = [
      { type: "encoded_text", tokens: head },
      { type: "image", data: png.toString("base64"), format: "png", expected_tokens: imageTokens },
      { type: "encoded_text", tokens: [...tail, ...response.slice(0, -1)] },
    ];
    const tensor = (d: number[], dtype: "int64" | "float32") => ({ data: d, dtype, shape: [d.length] });
    data.push({
      model_input: { chunks },
      loss_fn_inputs: {
        target_tokens: tensor(targets, "int64"),
        weights: tensor(weights, "float32"),
        logprobs: tensor(logprobs, "float32"),
        advantages: tensor(advantages, "float32"),
      },
    });
    tokens += length;
  }
}

const model = await tinyBackend({ cfg, tok }).createModel({ loraRank: 0, seed: 1 });
const config = { clip_low_threshold: 0.8, clip_high_threshold: 1.28 };
const runs: number[] = [];
for (let i = 0; i < STEPS + 1; i++) {
  const dt = await seconds(async () => {
    await model.forwardBackward(data, "ppo", config);
  });
  if (i > 0) runs.push(dt * 1000);
  await model.optimStep({ learning_rate: 1e-3 });
}
model.dispose();
console.log(
  JSON.stringify({
    forwardBackwardMs: Math.round(median(runs)),
    runsMs: runs.map(Math.round),
    datums: data.length,
    tokens,
  }),
);
