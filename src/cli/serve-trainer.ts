/**
 * `glmv serve trainer [--host H] [--port P] [--preset tiny|bigram] [--poll-wait-ms N]`: the Tinker training API
 * (trainer-api.md) on glmv's in-process backend, so `TinkerPolicy` (and `glmv rl --policy tinker --url URL`) can be
 * driven across processes on one machine. Prints one line `glmv serve trainer: listening on <url>` when ready and
 * shuts down on SIGINT/SIGTERM.
 */
import { loadTinyTokenizer } from "../model/tokenizer.ts";
import { bigramBackend } from "../serve/bigram-backend.ts";
import type { TrainerBackend } from "../serve/trainer-backend.ts";
import { createTrainerApp } from "../serve/trainer-server.ts";
import { GlmvError } from "../util/errors.ts";
import { numberArg, parseCliArgs } from "./args.ts";
import type { Command } from "./main.ts";

const USAGE = `usage: glmv serve trainer [options]

options:
  --host H            address to bind (default 127.0.0.1)
  --port P            port (default 8000; 0 picks a free one)
  --preset NAME       backend: tiny (glmv's tiny GLM-V model, fresh weights; default) or bigram (a bigram model
                      over the tiny tokenizer's vocabulary, for fast protocol tests)
  --poll-wait-ms N    how long retrieve_future waits before answering try_again (default 200)
  -h, --help          show this help`;

/** The backends `--preset` offers. */
export const TRAINER_PRESETS = ["bigram", "tiny"] as const;
export type TrainerPreset = (typeof TRAINER_PRESETS)[number];

/**
 * Build the backend of a preset.
 * @example const backend = await presetBackend("tiny"); backend.baseModel; // "glmv-tiny"
 */
export async function presetBackend(preset: TrainerPreset): Promise<TrainerBackend> {
  const tok = await loadTinyTokenizer();
  if (preset === "tiny") {
    // the tensor engine is loaded only for the model preset (a bigram server never pays for it)
    const [{ presetConfig }, { tinyBackend }, { initTensorEngine }] = await Promise.all([
      import("../model/config.ts"),
      import("../serve/tiny-backend.ts"),
      import("../tensor/engine.ts"),
    ]);
    await initTensorEngine();
    return tinyBackend({ cfg: presetConfig("tiny"), tok });
  }
  return bigramBackend({
    vocabSize: tok.vocabSize,
    imageTokenId: tok.special.image,
    baseModel: `glmv-${preset}`,
  });
}

async function run(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8000" },
    preset: { type: "string", default: "tiny" },
    "poll-wait-ms": { type: "string", default: "200" },
  });
  if (typeof values === "string") {
    console.error(`${values}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const port = numberArg(values, "port", { integer: true, min: 0, max: 65535 })!;
  const pollWaitMs = numberArg(values, "poll-wait-ms", { min: 0 })!;
  const preset = String(values.preset);
  if (!(TRAINER_PRESETS as readonly string[]).includes(preset)) {
    throw new GlmvError("bad_argument", `--preset must be one of ${TRAINER_PRESETS.join(", ")}`, {
      where: "--preset",
    });
  }
  const app = createTrainerApp({ backend: await presetBackend(preset as TrainerPreset), pollWaitMs });
  const { url } = await app.listen(port, String(values.host));
  console.log(`glmv serve trainer: listening on ${url}`);
  return await new Promise<number>((resolve) => {
    const stop = () => void app.close().then(() => resolve(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

export const serveTrainerCommand: Command = {
  summary: "serve the Tinker training API from glmv's backend",
  run,
};
