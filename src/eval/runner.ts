/**
 * `glmv eval run`'s engine, one task after another: load the items (`task.load`, the first `limit` in file order)
 * → generate (generate.ts: bounded concurrency, timeouts, retries, the response cache) → score (score-run.ts) →
 * judge the items the official rules send to an LLM, when a judge is given, and score again → write the outputs.
 * Every task's items are loaded before any request is sent, so a bad `--data` path fails the run at once.
 */

import { GlmvError } from "../util/errors.ts";
import type { ResponseCache } from "./cache.ts";
import {
  type CachedClient,
  type GenerationOptions,
  type GenerationStats,
  generateResponses,
} from "./generate.ts";
import { type AnswerJudge, type JudgedTask, withExtraction } from "./judge.ts";
import { loadTask } from "./registry.ts";
import { type RunMeta, writeEvalOutputs } from "./results.ts";
import type { RetryPolicy } from "./retry.ts";
import { type RunRow, type SampleLine, scoreTaskRun, type TaskRun } from "./score-run.ts";
import type { EvalItem, EvalTask, ExtractMode } from "./types.ts";

/** One task of a run with its release file (`--data T=PATH`). */
export type TaskSource = { task: string; data: string };

export type RunEvalOptions = {
  client: CachedClient;
  tasks: readonly TaskSource[];
  /** The first N items of each task, in file order. */
  limit?: number;
  thinking: boolean;
  maxTokens: number;
  temperature: number;
  seed: number;
  concurrency: number;
  retry: RetryPolicy;
  extract: ExtractMode;
  cache?: ResponseCache;
  judge?: AnswerJudge;
  signal?: AbortSignal;
  /** Progress of the current task's generation. */
  onProgress?: (task: string, done: number, total: number) => void;
  /** Task modules by name (default: the registry); tests pass their own. */
  resolveTask?: (name: string) => Promise<EvalTask>;
  random?: () => number;
};

/** One task's outcome: the scored run, its samples, and how generation and judging went. */
export type TaskOutcome = {
  run: TaskRun;
  samples: SampleLine[];
  /** The items as scored (a judged item carries its extraction), for the report. */
  items: readonly EvalItem[];
  generation: GenerationStats;
  /** Items the judge re-extracted (0 without a judge), and those it could not answer (left as they were). */
  judged: number;
  judgeFailed: number;
  /** The first few failure messages, for the run log. */
  errors: { id: string; error: string }[];
};

/**
 * Run every task and return the outcomes in task order (`writeEvalRun` writes them out).
 * Throws `bad_argument` for an unknown task, `not_found`/`bad_input` for unreadable data, and the abort reason
 * when the run is cancelled (what was answered stays in the cache).
 * @example const outcomes = await runEval({ client, tasks: [{ task: "mmmu", data: "mmmu/validation.parquet" }], … });
 */
export async function runEval(opts: RunEvalOptions): Promise<TaskOutcome[]> {
  const resolve = opts.resolveTask ?? loadTask;
  const loaded: { task: EvalTask; items: EvalItem[] }[] = [];
  for (const source of opts.tasks) {
    const task = await resolve(source.task);
    const all = await task.load(source.data);
    const items = opts.limit === undefined ? all : all.slice(0, opts.limit);
    if (items.length === 0)
      throw new GlmvError("bad_input", `task ${task.name}: no items in ${source.data}`, { where: "--data" });
    loaded.push({ task, items });
  }
  const outcomes: TaskOutcome[] = [];
  for (const { task, items } of loaded) outcomes.push(await runTask(task, items, opts));
  return outcomes;
}

/** Generate, score and (where needed) judge one task's items. */
export async function runTask(
  task: EvalTask,
  items: readonly EvalItem[],
  opts: RunEvalOptions,
): Promise<TaskOutcome> {
  const genOpts: GenerationOptions = {
    thinking: opts.thinking,
    maxTokens: opts.maxTokens,
    temperature: opts.temperature,
    seed: opts.seed,
    concurrency: opts.concurrency,
    retry: opts.retry,
    ...(opts.cache ? { cache: opts.cache } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.random ? { random: opts.random } : {}),
    onItem: (done, total) => opts.onProgress?.(task.name, done, total),
  };
  const { responses, stats } = await generateResponses(opts.client, task, items, genOpts);
  let rows: RunRow[] = responses.map((r) => ({ item: r.item, response: r.response }));
  let scored = scoreTaskRun(task, rows, { extract: opts.extract, seed: opts.seed });
  const errors = responses.flatMap((r) => (r.error ? [{ id: r.item.id, error: r.error }] : []));
  let judging = { judged: 0, failed: 0 };
  if (opts.judge && scored.run.needsJudge > 0) {
    const out = await judgeRows(opts.judge, task, rows, scored.samples, opts);
    rows = out.rows;
    judging = out;
    errors.push(...out.errors);
    // scored again as a whole: official rules with state across items must see the run in order
    scored = scoreTaskRun(task, rows, { extract: opts.extract, seed: opts.seed });
  }
  return {
    run: scored.run,
    samples: scored.samples,
    items: rows.map((r) => r.item),
    generation: stats,
    judged: judging.judged,
    judgeFailed: judging.failed,
    errors: errors.slice(0, 5),
  };
}

/**
 * The rows with each item that needed a judge carrying the judge's extraction (at most `concurrency` at once).
 * A judge that fails after its retries leaves its item as it was (scored 0, still counted as needing a judge).
 */
async function judgeRows(
  judge: AnswerJudge,
  task: JudgedTask,
  rows: RunRow[],
  samples: readonly SampleLine[],
  opts: Pick<RunEvalOptions, "concurrency" | "signal">,
): Promise<{ rows: RunRow[]; judged: number; failed: number; errors: { id: string; error: string }[] }> {
  const todo = samples.flatMap((s, i) => (s.needsJudge ? [i] : []));
  const out = rows.slice();
  const errors: { id: string; error: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      opts.signal?.throwIfAborted();
      const i = todo[next++]!;
      const { item } = rows[i]!;
      try {
        const extracted = await judge.extract(task, item, samples[i]!.answer);
        out[i] = { ...rows[i]!, item: withExtraction(task, item, extracted) };
      } catch (e) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        errors.push({ id: item.id, error: `judge: ${(e as Error).message}` });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, todo.length) }, worker));
  return { rows: out, judged: todo.length - errors.length, failed: errors.length, errors };
}

/**
 * Write the run folder's results.json, samples.jsonl and report.html. Per-task generation figures (cached, failed,
 * retried, forced answers, judged) go in the metadata's settings under `generation`.
 * @example await writeEvalRun("runs/e1", outcomes, { glmvVersion, model: client.id, settings, startedAt, finishedAt });
 */
export async function writeEvalRun(
  dir: string,
  outcomes: readonly TaskOutcome[],
  meta: RunMeta,
): Promise<{ results: string; samples: string; report: string }> {
  const generation = Object.fromEntries(
    outcomes.map((o) => [o.run.task, { ...o.generation, judged: o.judged, judgeFailed: o.judgeFailed }]),
  );
  return writeEvalOutputs(dir, { ...meta, settings: { ...meta.settings, generation } }, outcomes);
}
