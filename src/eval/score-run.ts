/**
 * The one place a run is scored (the runner and `glmv eval score` both call it): GLM-aware extraction, the task's
 * official `scoreAll` in item order, its summary, the paper's 95%-success rule (§6) and a bootstrap interval.
 */
import { type BootstrapOptions, bootstrapMean, type Interval } from "./bootstrap.ts";
import { extractAnswer } from "./extract.ts";
import type { EvalItem, EvalTask, ExtractMode, ItemVerdict, ScoringInput, TaskSummary } from "./types.ts";

/** Paper §6: a benchmark's score counts only if at least this share of its requests succeeded. */
export const MIN_SUCCESS_RATE = 0.95;

/** One item of a run: `response` null is a request that failed (scored 0, counted against the success rate). */
export type RunRow<I extends EvalItem = EvalItem> = { item: I; response: string | null };

/** A scored run of one task: what results.json holds per task. */
export type TaskRun = {
  task: string;
  n: number;
  succeeded: number;
  successRate: number;
  /** The paper's rule: true when at least 95% of the requests succeeded. */
  counts: boolean;
  summary: TaskSummary;
  /** Bootstrap interval of the mean item score (0–1), failed items included as 0; null for no items. */
  interval: Interval | null;
  /** Items the official rules would send to an LLM judge that was not available (scored 0). */
  needsJudge: number;
  extract: ExtractMode;
};

/** One line of samples.jsonl. `correct` is present where the task's headline is an accuracy. */
export type SampleLine = {
  task: string;
  id: string;
  score: number;
  correct?: boolean;
  extracted: string | null;
  /** What the official parser saw (after GLM-aware extraction). */
  answer: string;
  thinking: string;
  response: string | null;
  gold: unknown;
  failed?: true;
  needsJudge?: true;
};

export type ScoreRunOptions = {
  extract: ExtractMode;
  seed?: number;
  bootstrap?: Omit<BootstrapOptions, "seed">;
};

const FAILED: ItemVerdict = { score: 0, extracted: null };

/**
 * Score one task's run.
 * @example const { run, samples } = scoreTaskRun(task, rows, { extract: "auto", seed: 0 }); run.summary.headline
 */
export function scoreTaskRun<I extends EvalItem>(
  task: EvalTask<I>,
  rows: readonly RunRow<I>[],
  opts: ScoreRunOptions,
): { run: TaskRun; samples: SampleLine[] } {
  const extractions = rows.map((r) =>
    r.response === null ? null : extractAnswer(r.response, opts.extract, task.answerScope),
  );
  // failed requests never reach scoreAll: the official rules' state (MMMU's random draws) only sees real answers
  const inputs: ScoringInput<I>[] = [];
  rows.forEach((r, i) => {
    const x = extractions[i];
    if (r.response !== null && x) inputs.push({ item: r.item, response: r.response, answer: x.answer });
  });
  const scored = task.scoreAll(inputs);
  if (scored.length !== inputs.length) {
    throw new Error(
      `task ${task.name}: scoreAll returned ${scored.length} verdicts for ${inputs.length} answers`,
    );
  }
  let next = 0;
  const verdicts = rows.map((r) => (r.response === null ? FAILED : scored[next++]!));
  const summary = task.summarize(
    rows.map((r) => r.item),
    verdicts,
  );
  const isAccuracy = summary.accuracy !== undefined;
  const samples = rows.map((r, i): SampleLine => {
    const v = verdicts[i]!;
    const x = extractions[i];
    const line: SampleLine = {
      task: task.name,
      id: r.item.id,
      score: v.score,
      extracted: v.extracted,
      answer: x?.answer ?? "",
      thinking: x?.thinking ?? "",
      response: r.response,
      gold: r.item.gold,
    };
    if (isAccuracy) line.correct = v.score === 1;
    if (r.response === null) line.failed = true;
    if (v.needsJudge) line.needsJudge = true;
    return line;
  });
  const n = rows.length;
  const succeeded = rows.filter((r) => r.response !== null).length;
  const successRate = n === 0 ? 0 : succeeded / n;
  const run: TaskRun = {
    task: task.name,
    n,
    succeeded,
    successRate,
    counts: n > 0 && successRate >= MIN_SUCCESS_RATE,
    summary,
    interval: bootstrapMean(
      verdicts.map((v) => v.score),
      { ...opts.bootstrap, seed: opts.seed ?? 0 },
    ),
    needsJudge: verdicts.filter((v) => v.needsJudge).length,
    extract: opts.extract,
  };
  return { run, samples };
}
