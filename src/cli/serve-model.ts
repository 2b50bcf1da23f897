/**
 * `glmv serve model --model DIR [--host H] [--port P] [--token T] [--served-model-name NAME] …`: a glmv checkpoint
 * behind an OpenAI-compatible `/v1/chat/completions` (src/serve/model-server.ts), so `glmv eval run --model
 * openai:URL` or any other harness can evaluate it. Like the other servers it binds loopback by default, refuses any
 * other address without a token, prints one line `glmv serve model: listening on <url>` once ready, and on
 * SIGINT/SIGTERM stops taking requests, answers those accepted, then frees the model.
 */
import { basename, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { ChatModel } from "../model/chat-model.ts";
import { assertSafeBind, DEFAULT_REQUEST_TIMEOUT_MS } from "../serve/http.ts";
import { listenFailure, listeningUrl } from "../serve/listen.ts";
import { REASONING_PARSERS } from "../serve/model-requests.ts";
import { createModelServer } from "../serve/model-server.ts";
import { GlmvError } from "../util/errors.ts";
import { type CliValues, choiceArg, numberArg, parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";

const USAGE = `usage: glmv serve model --model DIR [options]

Serves POST /v1/chat/completions and GET /v1/models (OpenAI-compatible), GET /healthz, GET /metrics.

options:
  --model DIR                     checkpoint folder: config.json, *.safetensors, tokenizer.json (else the tiny one)
  --host H                        bind address (default 127.0.0.1; any other needs --token)
  --port N                        port (default 8000; 0 = any free port)
  --token T                       bearer token required on every route but /healthz (or env GLMV_SERVE_TOKEN)
  --served-model-name NAME        the model's name in /v1/models and requests (default: the folder's name)
  --style 4.1v|4.5v               chat template and force-answer style (default: 4.5v for a MoE model, else 4.1v)
  --max-pixels N                  the image processor's pixel cap (t·h·w, t = 2; default 9633792 = 6144 tokens)
  --max-batch N                   most greedy requests decoded together (default 8; sampled ones run alone)
  --max-tokens N                  most new tokens a request may ask for (default 32768)
  --default-max-tokens N          new tokens when a request names none (default 1024)
  --reasoning-parser none|glm45   none: the thinking stays in content (default); glm45: split into
                                  reasoning_content and content as vLLM's GLM-4.5 parser does
  --allowed-local-media-path DIR  file:// image URLs may read from this folder (default: refused)
  --max-queue N                   requests waiting before new ones get 503 (default 1024)
  --body-limit BYTES              largest request body (default 67108864)
  --request-timeout-ms N          most ms to receive a whole request, else 408 (default ${DEFAULT_REQUEST_TIMEOUT_MS})
  -h, --help                      show this help`;

/** GLM-4.1V's preprocessor max_pixels: 6,144 image tokens (paper §6). */
const DEFAULT_MAX_PIXELS = 9_633_792;

function parse(argv: string[]): CliValues {
  const values = parseCliArgs(argv, {
    model: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8000" },
    token: { type: "string" },
    "served-model-name": { type: "string" },
    style: { type: "string" },
    "max-pixels": { type: "string" },
    "max-batch": { type: "string" },
    "max-tokens": { type: "string" },
    "default-max-tokens": { type: "string" },
    "reasoning-parser": { type: "string" },
    "allowed-local-media-path": { type: "string" },
    "max-queue": { type: "string" },
    "body-limit": { type: "string" },
    "request-timeout-ms": { type: "string" },
  });
  if (typeof values === "string") throw new GlmvError("bad_argument", values);
  return values;
}

async function run(argv: string[]): Promise<number> {
  const values = parse(argv);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dir = values.model as string | undefined;
  if (!dir) throw new GlmvError("bad_argument", "--model DIR is required");
  const host = values.host as string;
  const token = (values.token as string | undefined) || process.env.GLMV_SERVE_TOKEN || undefined;
  assertSafeBind(host, token);
  const port = numberArg(values, "port", { integer: true, min: 0, max: 65_535 })!;
  const int = (name: string, min: number) => numberArg(values, name, { integer: true, min });
  const serverOptions = {
    name: (values["served-model-name"] as string | undefined) ?? basename(resolve(dir)),
    token,
    maxTokens: int("max-tokens", 1),
    defaultMaxTokens: int("default-max-tokens", 1),
    maxQueue: int("max-queue", 1),
    bodyLimit: int("body-limit", 1024),
    requestTimeoutMs: int("request-timeout-ms", 1),
    reasoningParser: choiceArg(values, "reasoning-parser", REASONING_PARSERS),
    allowedMediaPath: values["allowed-local-media-path"] as string | undefined,
  };
  const style = choiceArg(values, "style", ["4.1v", "4.5v"] as const);
  const maxPixels = int("max-pixels", 1) ?? DEFAULT_MAX_PIXELS;
  const maxBatch = int("max-batch", 1);
  // every option is checked before the checkpoint loads (seconds for a real model)
  const [{ openChatModel }, { initTensorEngine }] = await Promise.all([
    import("../model/chat-model.ts"),
    import("../tensor/engine.ts"),
  ]);
  await initTensorEngine();
  const model = await openChatModel(dir, { style, maxPixels, maxBatch });
  const app = createModelServer({ model, ...serverOptions });
  console.error(`glmv serve model: ${resolve(dir)} as '${serverOptions.name}' (style ${model.style})`);
  return await serveUntilSignal(app, host, port, model);
}

/** Listen, print the address, and resolve once a signal has closed the app and freed the model. */
async function serveUntilSignal(
  app: FastifyInstance,
  host: string,
  port: number,
  model: ChatModel,
): Promise<number> {
  try {
    await app.listen({ host, port });
  } catch (e) {
    await model.close();
    throw listenFailure(e, host, port) ?? e;
  }
  console.log(`glmv serve model: listening on ${listeningUrl(app.server)}`);
  return await new Promise<number>((done) => {
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      console.error(`glmv serve model: ${signal}, finishing requests in flight`);
      void app
        .close()
        .then(() => model.close())
        .then(() => done(0));
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

/** Option mistakes print the usage and exit 2 (as the other `glmv serve` commands do). */
async function runWithUsage(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    if (e instanceof GlmvError && e.code === "bad_argument") {
      console.error(`glmv serve model: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

export const serveModelCommand: Command = {
  summary: "serve a glmv checkpoint over an OpenAI-compatible chat API",
  run: runWithUsage,
};
