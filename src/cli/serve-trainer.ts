/**
 * `glmv serve trainer [--host H] [--port P] [--preset tiny|bigram] [--token T] [--checkpoint-root DIR] ...`: the
 * Tinker training API (trainer-api.md) on glmv's in-process backend, so `TinkerPolicy` (and `glmv rl --policy tinker
 * --url URL`) can be driven across processes. Like `glmv serve reward` it binds loopback by default and refuses any
 * other address without a token; checkpoints stay under the checkpoint root. Prints the root, then one line
 * `glmv serve trainer: listening on <url>` (the address actually bound) when ready; shuts down on SIGINT/SIGTERM.
 */
import { loadTinyTokenizer } from "../model/tokenizer.ts";
import { bigramBackend } from "../serve/bigram-backend.ts";
import { assertSafeBind } from "../serve/http.ts";
import type { TrainerBackend } from "../serve/trainer-backend.ts";
import { DEFAULT_BODY_LIMIT, DEFAULT_REQUEST_TIMEOUT_MS } from "../serve/trainer-http.ts";
import { DEFAULT_CHECKPOINT_ROOT } from "../serve/trainer-paths.ts";
import { createTrainerApp } from "../serve/trainer-server.ts";
import { GlmvError } from "../util/errors.ts";
import { numberArg, parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";

const USAGE = `usage: glmv serve trainer [options]

options:
  --host H                  address to bind (default 127.0.0.1; any other needs --token)
  --port P                  port (default 8000; 0 picks a free one)
  --token T                 token every route but /api/v1/healthz requires, as 'Authorization: Bearer T' or
                            'X-API-Key: T' (or env GLMV_SERVE_TOKEN; glmv rl sends its --api-key as both)
  --checkpoint-root DIR     the only folder save_weights / load_weights may use; clients send paths relative
                            to it (default ./${DEFAULT_CHECKPOINT_ROOT}, created on first use)
  --preset NAME             backend: tiny (glmv's tiny GLM-V model, fresh weights; default) or bigram (a bigram
                            model over the tiny tokenizer's vocabulary, for fast protocol tests)
  --poll-wait-ms N          how long retrieve_future waits before answering try_again (default 200)
  --body-limit BYTES        largest request body (default ${DEFAULT_BODY_LIMIT})
  --request-timeout-ms N    time for a request's body to arrive before a 408 (default ${DEFAULT_REQUEST_TIMEOUT_MS})
  -h, --help                show this help`;

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
    token: { type: "string" },
    "checkpoint-root": { type: "string", default: DEFAULT_CHECKPOINT_ROOT },
    preset: { type: "string", default: "tiny" },
    "poll-wait-ms": { type: "string", default: "200" },
    "body-limit": { type: "string" },
    "request-timeout-ms": { type: "string" },
  });
  if (typeof values === "string") throw new GlmvError("bad_argument", values);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const host = String(values.host);
  const token = (values.token as string | undefined) ?? process.env.GLMV_SERVE_TOKEN;
  // refused before the backend loads, so a wrong invocation fails at once
  assertSafeBind(host, token);
  const port = numberArg(values, "port", { integer: true, min: 0, max: 65535 })!;
  const pollWaitMs = numberArg(values, "poll-wait-ms", { min: 0 })!;
  const bodyLimit = numberArg(values, "body-limit", { integer: true, min: 1024 });
  const requestTimeoutMs = numberArg(values, "request-timeout-ms", { integer: true, min: 1 });
  const preset = String(values.preset);
  if (!(TRAINER_PRESETS as readonly string[]).includes(preset)) {
    throw new GlmvError("bad_argument", `--preset must be one of ${TRAINER_PRESETS.join(", ")}`, {
      where: "--preset",
    });
  }
  const app = createTrainerApp({
    backend: await presetBackend(preset as TrainerPreset),
    pollWaitMs,
    checkpointRoot: String(values["checkpoint-root"]),
  });
  const { url } = await app.listen(port, host, { token, bodyLimit, requestTimeoutMs });
  console.log(`glmv serve trainer: checkpoints under ${app.checkpointRoot}`);
  console.log(`glmv serve trainer: listening on ${url}`);
  return await new Promise<number>((resolve) => {
    const stop = () => void app.close().then(() => resolve(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

/** Option errors print the usage and exit 2 (as `glmv serve reward` does). */
async function runWithUsage(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    if (e instanceof GlmvError && e.code === "bad_argument") {
      console.error(`glmv serve trainer: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

export const serveTrainerCommand: Command = {
  summary: "serve the Tinker training API from glmv's backend",
  run: runWithUsage,
};
