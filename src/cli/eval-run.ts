/**
 * `glmv eval run --model SPEC --tasks T1,T2 --data T1=PATH,… --out DIR [options]`
 * Asks a model every item of each task, scores the answers with the benchmark's official rule and writes
 * DIR/results.json, DIR/samples.jsonl and DIR/report.html. Responses are cached in DIR/cache.sqlite as they
 * arrive: rerunning the same command after a crash or Ctrl-C asks only what is still missing.
 */
import { stat } from "node:fs/promises";
import { ResponseCache } from "../eval/cache.ts";
import { DEFAULT_MAX_TOKENS } from "../eval/generate.ts";
import { type AnswerJudge, createJudge } from "../eval/judge.ts";
import type { ModelClient } from "../eval/model-client.ts";
import { DEFAULT_MAX_PIXELS } from "../eval/models/openai-messages.ts";
import {
  type ClientOptions,
  createModelClient,
  type ModelSpec,
  parseModelSpec,
} from "../eval/models/spec.ts";
import { TASK_NAMES } from "../eval/registry.ts";
import { RetryPolicy } from "../eval/retry.ts";
import { runEval, type TaskOutcome, writeEvalRun } from "../eval/runner.ts";
import { ExtractModeSchema } from "../eval/types.ts";
import { GlmvError } from "../util/errors.ts";
import { type CliOptions, type CliValues, choiceArg, numberArg, parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "./failure.ts";
import { createProgress, type Progress } from "./progress.ts";
import { packageVersion } from "./version.ts";

const USAGE = `usage: glmv eval run --model SPEC --tasks T1,T2 --data T1=PATH,T2=PATH --out DIR [options]

Asks the model every item of each task (the first --limit N in file order), scores the answers with the
benchmark's official rule, and writes DIR/results.json, DIR/samples.jsonl and DIR/report.html. Responses are
cached in DIR/cache.sqlite as they arrive: rerun the same command to resume a killed run.

options:
  --model SPEC          openai:URL[#model] (an OpenAI-compatible server, e.g. vLLM at http://host:8000/v1;
                        without #model, the first it lists), local:CHECKPOINT_DIR, or tinker:URL[#MODEL_PATH]
                        (a Tinker-API trainer's sampler on saved sampler weights, else its base model)
  --tasks T1,T2         task names (${TASK_NAMES.join(", ")})
  --data T1=PATH,…      each task's release file or folder (nothing is downloaded)
  --out DIR             output folder (created; holds the cache)
  --limit N             the first N items of each task
  --thinking on|off     thinking mode (default on; off sends enable_thinking false, and /nothink in the 4.5v style)
  --style 4.1v|4.5v     the model's answer format: 4.1v <think>…</think><answer>…</answer>; 4.5v no <answer>,
                        /nothink (default 4.1v)
  --max-tokens N        output budget per item (default ${DEFAULT_MAX_TOKENS}; a task's own budget wins with --thinking off)
  --force-answer-tokens N  budget of the force-answer continuation when thinking runs out (default 1024; 0 off)
  --temperature T       default 0
  --seed S              run seed; each item's seed derives from it (default 0)
  --concurrency K       requests in flight (default 16)
  --timeout-s S         one attempt's limit (default 900)
  --retries N           retries on 429, 5xx, timeouts and dropped connections (default 4; never on other 4xx)
  --max-pixels N        downscale images above N pixels (default ${DEFAULT_MAX_PIXELS}: 6,144 image tokens)
  --extract auto|glm|official  answer extraction (default auto: GLM markers when present)
  --judge SPEC          openai:URL#model answer-extraction judge, where a benchmark's rules call for one
  --api-key KEY         bearer key for openai: models (default: $OPENAI_API_KEY)
  --judge-api-key KEY   bearer key for the judge (default: --api-key, then $OPENAI_API_KEY)
  --tokenizer DIR       tokenizer.json folder for a tinker: model (default glmv's tiny tokenizer)
  --plain-api           send no vLLM/SGLang extras (chat_template_kwargs, skip_special_tokens): hosted APIs
  -h, --help            show this help

exit codes: 0 every task ran and counts; 1 the run failed, or a task had < 95% successful requests (the outputs
are still written; such a task's score does not count); 2 a usage or input mistake`;

type Args = {
  model: ModelSpec;
  tasks: { task: string; data: string }[];
  out: string;
  limit?: number;
  thinking: boolean;
  maxTokens: number;
  temperature: number;
  seed: number;
  concurrency: number;
  retry: RetryPolicy;
  extract: "auto" | "glm" | "official";
  judge?: ModelSpec;
  client: ClientOptions;
  judgeApiKey?: string;
  tokenizer?: string;
};

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const usage = (message: string) => new GlmvError("bad_argument", message);

/** `T1=PATH,T2=PATH` for the tasks asked; a task without a path, or a path for a task not asked, is a mistake. */
export function parseDataArg(text: string, tasks: readonly string[]): Map<string, string> {
  const paths = new Map<string, string>();
  for (const part of text.split(",").filter((p) => p.trim() !== "")) {
    const eq = part.indexOf("=");
    if (eq <= 0 || eq === part.length - 1) throw usage(`--data entries are TASK=PATH, got '${part}'`);
    const task = part.slice(0, eq).trim();
    if (!tasks.includes(task)) throw usage(`--data names '${task}', which is not in --tasks`);
    paths.set(task, part.slice(eq + 1));
  }
  const missing = tasks.filter((t) => !paths.has(t));
  if (missing.length)
    throw usage(`--data has no path for ${missing.join(", ")} (give TASK=PATH for each task)`);
  return paths;
}

/** The flags of `glmv eval run`, with their defaults. */
const OPTIONS = {
  model: { type: "string" },
  tasks: { type: "string" },
  data: { type: "string" },
  out: { type: "string" },
  limit: { type: "string" },
  thinking: { type: "string", default: "on" },
  style: { type: "string", default: "4.1v" },
  "max-tokens": { type: "string", default: String(DEFAULT_MAX_TOKENS) },
  "force-answer-tokens": { type: "string", default: "1024" },
  temperature: { type: "string", default: "0" },
  seed: { type: "string", default: "0" },
  concurrency: { type: "string", default: "16" },
  "timeout-s": { type: "string", default: "900" },
  retries: { type: "string", default: "4" },
  "max-pixels": { type: "string", default: String(DEFAULT_MAX_PIXELS) },
  extract: { type: "string", default: "auto" },
  judge: { type: "string" },
  "api-key": { type: "string" },
  "judge-api-key": { type: "string" },
  "plain-api": { type: "boolean", default: false },
  tokenizer: { type: "string" },
} satisfies CliOptions;

/** The task names of `--tasks` (each once, in order); an unknown name is a usage mistake. */
function parseTaskNames(tasksText: string): string[] {
  const names = [
    ...new Set(
      tasksText
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  const unknown = names.filter((t) => !TASK_NAMES.includes(t));
  if (names.length === 0 || unknown.length)
    throw usage(`unknown task '${unknown[0] ?? tasksText}' in --tasks (known: ${TASK_NAMES.join(", ")})`);
  return names;
}

/** The optional settings: `--tokenizer` (tinker: only), `--limit`, `--judge` (an openai: endpoint). */
function addOptionalArgs(args: Args, values: CliValues): Args {
  const tokenizer = str(values.tokenizer);
  if (tokenizer !== undefined) {
    if (args.model.kind !== "tinker") throw usage("--tokenizer is for tinker: models only");
    args.tokenizer = tokenizer;
  }
  const limit = numberArg(values, "limit", { integer: true, min: 1 });
  if (limit !== undefined) args.limit = limit;
  const judge = str(values.judge);
  if (judge !== undefined) {
    args.judge = parseModelSpec(judge, "--judge");
    if (args.judge.kind !== "openai") throw usage("--judge must be an openai:URL#model endpoint");
  }
  return args;
}

/** Parse argv: the args, or null after --help. Mistakes throw `bad_argument`. */
export function parseEvalRunArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Args | null {
  const values = parseCliArgs(argv, OPTIONS);
  if (typeof values === "string") throw usage(values);
  if (values.help) return null;
  const [model, tasksText, dataText, out] = [values.model, values.tasks, values.data, values.out].map(str);
  if (!model || !tasksText || !dataText || !out)
    throw usage("--model, --tasks, --data and --out are required");
  const names = parseTaskNames(tasksText);
  const data = parseDataArg(dataText, names);
  const int = (name: string, min: number) => numberArg(values, name, { integer: true, min })!;
  const apiKey = str(values["api-key"]) ?? (env.OPENAI_API_KEY || undefined);
  const judgeApiKey = str(values["judge-api-key"]) ?? apiKey;
  const args: Args = {
    model: parseModelSpec(model),
    tasks: names.map((task) => ({ task, data: data.get(task)! })),
    out,
    thinking: choiceArg(values, "thinking", ["on", "off"]) === "on",
    maxTokens: int("max-tokens", 1),
    temperature: numberArg(values, "temperature", { min: 0 })!,
    seed: int("seed", 0),
    concurrency: int("concurrency", 1),
    retry: RetryPolicy.parse({
      maxRetries: int("retries", 0),
      timeoutMs: 1000 * numberArg(values, "timeout-s", { min: 1 })!,
    }),
    extract: ExtractModeSchema.parse(choiceArg(values, "extract", ExtractModeSchema.options)),
    client: {
      style: choiceArg(values, "style", ["4.1v", "4.5v"])!,
      maxPixels: int("max-pixels", 1),
      forceAnswerTokens: int("force-answer-tokens", 0),
      serverExtras: values["plain-api"] !== true,
      ...(apiKey ? { apiKey } : {}),
    },
    ...(judgeApiKey ? { judgeApiKey } : {}),
  };
  return addOptionalArgs(args, values);
}

/** The model client of a spec; `tinker:` is built here because eval may not import the rl code. */
async function openModel(spec: ModelSpec, opts: ClientOptions, tokenizerDir?: string): Promise<ModelClient> {
  if (spec.kind === "tinker") {
    const { createTinkerModel } = await import("./eval-tinker.ts");
    const { style, apiKey, forceAnswerTokens } = opts;
    return createTinkerModel(spec, {
      ...(style ? { style } : {}),
      ...(apiKey ? { apiKey } : {}),
      ...(forceAnswerTokens !== undefined ? { forceAnswerTokens } : {}),
      ...(tokenizerDir ? { tokenizerDir } : {}),
    });
  }
  return createModelClient(spec, opts);
}

/** `--out` must be a folder or not exist yet. */
async function checkOutDir(out: string): Promise<void> {
  const s = await stat(out).catch(() => undefined);
  if (s && !s.isDirectory()) throw usage(`--out ${out} is a file; give a folder`);
}

/** One line per task: its headline, success rate and what generation and judging did. */
export function formatOutcome(o: TaskOutcome): string {
  const { run, generation: g } = o;
  const s = run.summary;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const parts = [
    `${run.task}: ${s.metric} ${s.headline.toFixed(2)}${s.unit === "%" ? "%" : ` ${s.unit}`}`,
    `n ${run.n}`,
    `ok ${pct(run.successRate)}${run.counts ? "" : " (< 95%: does not count)"}`,
    `cached ${g.cached}`,
    `failed ${g.failed}`,
  ];
  if (g.forced) parts.push(`forced answers ${g.forced}`);
  if (o.judged || o.judgeFailed)
    parts.push(`judged ${o.judged}${o.judgeFailed ? ` (${o.judgeFailed} failed)` : ""}`);
  if (run.needsJudge) parts.push(`needed a judge ${run.needsJudge} (scored 0; pass --judge)`);
  return parts.join(", ");
}

/** The parsed args, or the exit code after --help or a usage mistake (printed with the usage). */
function argsOrExit(argv: string[]): Args | number {
  try {
    const args = parseEvalRunArgs(argv);
    if (args !== null) return args;
    console.log(USAGE);
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof GlmvError) || e.code !== "bad_argument") throw e;
    console.error(`glmv eval run: ${e.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
}

/** The judge of `--judge`, sharing the run's retry policy and cache. */
async function openJudge(args: Args, cache: ResponseCache): Promise<AnswerJudge | undefined> {
  if (args.judge?.kind !== "openai") return undefined;
  const judgeOpts = { serverExtras: false, ...(args.judgeApiKey ? { apiKey: args.judgeApiKey } : {}) };
  return createJudge(await createModelClient(args.judge, judgeOpts), { retry: args.retry, cache });
}

/** Write the outputs and print each task's line; exit 1 when a task had fewer than 95% successful requests. */
async function finishRun(
  args: Args,
  outcomes: TaskOutcome[],
  meta: { model: string; judge: string | null; client: unknown; startedAt: string },
): Promise<number> {
  const { tasks, limit, thinking, maxTokens, temperature, seed, extract } = args;
  const settings = {
    ...{ tasks, limit: limit ?? null, thinking, maxTokens, temperature, seed, extract },
    ...{ judge: meta.judge, client: meta.client },
  };
  const paths = await writeEvalRun(args.out, outcomes, {
    glmvVersion: packageVersion(),
    model: meta.model,
    settings,
    startedAt: meta.startedAt,
    finishedAt: new Date().toISOString(),
  });
  for (const o of outcomes) {
    console.log(formatOutcome(o));
    for (const e of o.errors) console.error(`  ${o.run.task} ${e.id}: ${e.error}`);
  }
  console.log(`results → ${paths.results}, ${paths.samples}, ${paths.report}`);
  const failing = outcomes.filter((o) => !o.run.counts).map((o) => o.run.task);
  if (!failing.length) return EXIT_OK;
  console.error(`glmv eval run: fewer than 95% of the requests succeeded for ${failing.join(", ")}`);
  return EXIT_FAILED;
}

async function run(argv: string[]): Promise<number> {
  const args = argsOrExit(argv);
  if (typeof args === "number") return args;
  await checkOutDir(args.out);
  const startedAt = new Date().toISOString();
  const client = await openModel(args.model, args.client, args.tokenizer);
  const cache = ResponseCache.open(args.out);
  const abort = new AbortController();
  const onSignal = () => abort.abort(new GlmvError("engine_error", "interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let progress: Progress | undefined;
  try {
    const judge = await openJudge(args, cache);
    let current = "";
    const { tasks, limit, thinking, maxTokens, temperature, seed, concurrency, retry, extract } = args;
    const outcomes = await runEval({
      tasks,
      ...(limit !== undefined ? { limit } : {}),
      thinking,
      maxTokens,
      temperature,
      seed,
      concurrency,
      retry,
      extract,
      client,
      cache,
      signal: abort.signal,
      ...(judge ? { judge } : {}),
      onProgress: (task, _done, total) => {
        if (task !== current) {
          progress?.stop();
          current = task;
          progress = createProgress(total, { label: task });
        }
        progress?.tick();
      },
    });
    progress?.stop();
    const clientSettings = "settings" in client ? client.settings : {};
    const meta = { model: client.id, judge: judge?.id ?? null, client: clientSettings, startedAt };
    return await finishRun(args, outcomes, meta);
  } catch (e) {
    if (abort.signal.aborted) {
      console.error(
        `glmv eval run: interrupted; ${cache.count("response")} responses are cached in ${args.out}/cache.sqlite (run the same command again to resume)`,
      );
      return EXIT_FAILED;
    }
    throw e;
  } finally {
    progress?.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    cache.close();
    await client.close?.();
  }
}

export const evalRunCommand: Command = { summary: "ask a model every benchmark item and score it", run };
