/**
 * `glmv serve reward` and `glmv serve curriculum`: the HTTP services for engines that own their training loop
 * (OpenRLHF, verl, TRL). Both bind 127.0.0.1 by default, refuse any other address without `--token`, print one
 * line `listening on <url>` once ready, and shut down gracefully on SIGINT/SIGTERM: new requests are refused,
 * requests in flight finish, then the pool or database is closed. Everyday start-up mistakes (port in use, a bad
 * or empty prompts file, a --db another server holds) are one line on stderr and exit code 2.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { STYLES } from "../model/domains.ts";
import { RewardPool } from "../reward/pool.ts";
import { createCurriculumServer } from "../serve/curriculum-server.ts";
import { CurriculumStore, type PromptLine, parsePromptsJsonl } from "../serve/curriculum-store.ts";
import { assertSafeBind, DEFAULT_REQUEST_TIMEOUT_MS } from "../serve/http.ts";
import { listenFailure, listeningUrl } from "../serve/listen.ts";
import { SPECIAL_TOKEN_MODES } from "../serve/reward-requests.ts";
import { createRewardServer } from "../serve/reward-server.ts";
import { GlmvError, isGlmvError } from "../util/errors.ts";
import { type CliOptions, type CliValues, choiceArg, numberArg, parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";

const REWARD_USAGE = `usage: glmv serve reward [options]

Serves POST /get_reward (OpenRLHF batches; slime remote_rm single samples), POST /v1/score (glmv batches; verl and TRL shims), GET /healthz, GET /metrics.

options:
  --host H                 bind address (default 127.0.0.1; any other needs --token)
  --port N                 port (default 8000; 0 = any free port)
  --token T                bearer token required on every route but /healthz (or env GLMV_SERVE_TOKEN)
  --deadline-ms N          hard deadline per item in ms (default 2000); a timeout is reward 0
  --special-tokens MODE    kept (OpenRLHF, default) | stripped (verl skip_special_tokens=True)
  --style 4.1v|4.5v        response style of the run (default 4.1v; an item's own "style" wins)
  --no-thinking            responses were generated with thinking off (GLM-4.5V/4.6V: the prompt pre-filled an
                           empty <think></think>): a response without a think block is scored as if it had that
                           one; a /v1/score request's "thinking" wins
  --workers N              reward worker threads (default: available parallelism)
  --max-items N            most items per request (default 1024)
  --body-limit BYTES       largest request body (default 16777216)
  --request-timeout-ms N   most ms to receive a whole request, else 408 (default ${DEFAULT_REQUEST_TIMEOUT_MS})
  -h, --help               show this help`;

const CURRICULUM_USAGE = `usage: glmv serve curriculum [options]

Serves POST /v1/sample {n}, POST /v1/observe {results:[{id,rewards}]}, GET /v1/stats, GET /healthz, GET /metrics.

options:
  --host H             bind address (default 127.0.0.1; any other needs --token)
  --port N             port (default 8001; 0 = any free port)
  --token T            bearer token (or env GLMV_SERVE_TOKEN)
  --db FILE            SQLite state (default curriculum.sqlite); reopened as is after a restart
  --prompts FILE       JSONL {id, prompt/messages…, difficulty?}; new ids are added, known ids keep their state;
                       ids must be unique; needed unless --db already holds prompts
  --request-timeout-ms N  most ms to receive a whole request, else 408 (default ${DEFAULT_REQUEST_TIMEOUT_MS})
  -h, --help           show this help`;

/** Parsed options; a parse error becomes a `bad_argument` (printed with the usage by `withUsage`). */
function parse(argv: string[], options: CliOptions): CliValues {
  const values = parseCliArgs(argv, options);
  if (typeof values === "string") throw new GlmvError("bad_argument", values);
  return values;
}

const intOption = (values: CliValues, name: string, min: number, max?: number) =>
  numberArg(values, name, max === undefined ? { integer: true, min } : { integer: true, min, max });

const portOption = (values: CliValues, fallback: number) => intOption(values, "port", 0, 65_535) ?? fallback;

/** Listen, print the address, and resolve once a signal has closed the app and `cleanup` has run. */
async function serveUntilSignal(
  app: FastifyInstance,
  host: string,
  port: number,
  name: string,
  cleanup: () => Promise<void> | void,
): Promise<number> {
  try {
    await app.listen({ host, port });
  } catch (e) {
    throw listenFailure(e, host, port) ?? e;
  }
  console.log(`glmv serve ${name}: listening on ${listeningUrl(app.server)}`);
  return await new Promise<number>((resolve) => {
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      console.error(`glmv serve ${name}: ${signal}, finishing requests in flight`);
      void app
        .close()
        .then(cleanup)
        .then(() => resolve(0));
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

const COMMON = {
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string" },
  token: { type: "string" },
  "request-timeout-ms": { type: "string" },
} as const;

async function runReward(argv: string[]): Promise<number> {
  const values = parse(argv, {
    ...COMMON,
    "deadline-ms": { type: "string" },
    "special-tokens": { type: "string" },
    style: { type: "string" },
    "no-thinking": { type: "boolean" },
    workers: { type: "string" },
    "max-items": { type: "string" },
    "body-limit": { type: "string" },
  });
  if (values.help) {
    console.log(REWARD_USAGE);
    return 0;
  }
  const host = values.host as string;
  const token = (values.token as string | undefined) ?? process.env.GLMV_SERVE_TOKEN;
  assertSafeBind(host, token);
  const specialTokens = choiceArg(values, "special-tokens", SPECIAL_TOKEN_MODES) ?? "kept";
  const style = choiceArg(values, "style", STYLES) ?? "4.1v";
  const port = portOption(values, 8000);
  // Every option is checked before the pool starts: its worker threads would keep a failed start alive.
  const deadlineMs = intOption(values, "deadline-ms", 1) ?? 2000;
  const workers = intOption(values, "workers", 1);
  const serverOptions = {
    token,
    specialTokens,
    style,
    thinking: values["no-thinking"] !== true,
    maxItems: intOption(values, "max-items", 1),
    bodyLimit: intOption(values, "body-limit", 1024),
    requestTimeoutMs: intOption(values, "request-timeout-ms", 1),
  };
  // The server puts a thinking-off pre-fill back per request (a request may switch it): the pool keeps thinking on.
  const pool = new RewardPool({ deadlineMs, workers, style });
  const app = createRewardServer({ pool, ...serverOptions });
  try {
    return await serveUntilSignal(app, host, port, "reward", () => pool.close());
  } catch (e) {
    await pool.close();
    throw e;
  }
}

async function runCurriculum(argv: string[]): Promise<number> {
  const values = parse(argv, {
    ...COMMON,
    db: { type: "string", default: "curriculum.sqlite" },
    prompts: { type: "string" },
  });
  if (values.help) {
    console.log(CURRICULUM_USAGE);
    return 0;
  }
  const host = values.host as string;
  const token = (values.token as string | undefined) ?? process.env.GLMV_SERVE_TOKEN;
  assertSafeBind(host, token);
  const port = portOption(values, 8001);
  const requestTimeoutMs = intOption(values, "request-timeout-ms", 1);
  const dbPath = values.db as string;
  const promptsFile = values.prompts as string | undefined;
  // Read and check the prompts before touching the database: a typo must not leave a new empty db behind.
  const lines = promptsFile === undefined ? undefined : await readPrompts(promptsFile);
  if (lines === undefined && !existsSync(dbPath))
    throw new GlmvError("bad_input", `no prompts: ${dbPath} does not exist yet; pass --prompts FILE (JSONL)`);
  const store = CurriculumStore.open(dbPath);
  try {
    if (lines !== undefined) {
      const added = store.loadPrompts(lines);
      console.error(`glmv serve curriculum: ${added} new prompts, ${store.summary().prompts} in total`);
    }
    if (store.summary().prompts === 0)
      throw new GlmvError("bad_input", `no prompts: ${dbPath} holds none; pass --prompts FILE (JSONL)`);
    const app = createCurriculumServer({ store, token, requestTimeoutMs });
    return await serveUntilSignal(app, host, port, "curriculum", () => store.close());
  } catch (e) {
    store.close();
    throw e;
  }
}

/** The prompt lines of a JSONL file; an unreadable file, a bad line, a duplicate id or no prompts at all throw. */
async function readPrompts(file: string): Promise<PromptLine[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new GlmvError("io_error", `cannot read prompts: ${(e as Error).message}`, { where: file });
  }
  const lines = parsePromptsJsonl(text, file);
  if (lines.length === 0)
    throw new GlmvError("bad_input", "the prompts file holds no prompts", { where: file });
  return lines;
}

/**
 * Wrap a runner so that option errors print the usage and exit 2 (like `glmv reward score`), and every other
 * `GlmvError` (a start-up mistake: port in use, bad prompts file, --db held by another server) is one line, exit 2.
 */
function withUsage(name: string, usage: string, run: (argv: string[]) => Promise<number>) {
  return async (argv: string[]): Promise<number> => {
    try {
      return await run(argv);
    } catch (e) {
      if (!isGlmvError(e)) throw e;
      const more = e.code === "bad_argument" ? `\n\n${usage}` : "";
      console.error(`glmv serve ${name}: ${e.message}${more}`);
      return 2;
    }
  };
}

export const serveRewardCommand: Command = {
  summary: "serve the reward system over HTTP (OpenRLHF, verl, TRL)",
  run: withUsage("reward", REWARD_USAGE, runReward),
};

export const serveCurriculumCommand: Command = {
  summary: "serve RLCS curriculum sampling over HTTP",
  run: withUsage("curriculum", CURRICULUM_USAGE, runCurriculum),
};
