/**
 * glmv's reward system as a library (`import { scoreItems } from "glmv/reward"`).
 * `scoreItem` scores one item in the calling thread; `scoreItems` and `RewardPool` run items in worker threads
 * under a hard per-item deadline, and can hand undecidable textual answers to an optional LLM judge.
 */
import { applyJudge, JudgeConfig, type JudgeConfigInput } from "./judge.ts";
import { RewardPool, type RewardPoolOptions, type ScoreCallbacks } from "./pool.ts";
import type { ScoredResult, ScoreInput } from "./system.ts";

export type ScoreItemsOptions = RewardPoolOptions &
  ScoreCallbacks & {
    /** Optional LLM judge (off when absent); see `judge.ts`. */
    judge?: JudgeConfigInput | undefined;
  };

/**
 * Score a batch in a temporary worker pool (closed before returning). For many batches keep one `RewardPool`.
 * @example
 * const [r] = await scoreItems([{ id: 1, domain: "counting", answer: "3",
 *   response: "<think>one, two, three</think><answer><|begin_of_box|>3<|end_of_box|></answer>" }]);
 * r.reward // 1
 */
export async function scoreItems(
  items: readonly ScoreInput[],
  opts: ScoreItemsOptions = {},
): Promise<ScoredResult[]> {
  const judge = opts.judge === undefined ? undefined : JudgeConfig.parse(opts.judge);
  if (items.length === 0) return [];
  const pool = new RewardPool(opts);
  try {
    const results = await pool.score(items, opts);
    return judge === undefined ? results : await applyJudge(items, results, judge);
  } finally {
    await pool.close();
  }
}

export { ScoreInputSchema } from "./item-schema.ts";
export {
  applyJudge,
  DEFAULT_JUDGE_TEMPLATE,
  JudgeConfig,
  type JudgeConfigInput,
  JudgeEndpoint,
  judgeAnswer,
  parseJudgeReply,
} from "./judge.ts";
export { type ItemTiming, RewardPool, type RewardPoolOptions, type ScoreCallbacks } from "./pool.ts";
export { VERIFIERS } from "./registry.ts";
export {
  type ScoredResult,
  type ScoreInput,
  type ScoreOptions,
  type ScoreStage,
  scoreItem,
} from "./system.ts";
export * from "./types.ts";
