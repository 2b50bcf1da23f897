/**
 * glmv's reward system as a library (`import { scoreItems } from "glmv/reward"`).
 * `scoreItem` scores one item in the calling thread; `scoreItems` and `RewardPool` run items in worker threads
 * under a hard per-item deadline, and can hand undecidable textual answers to an optional LLM judge. `cleanAnswer`
 * turns any GLM-V response into the text to show a person (no reasoning, no box tokens).
 */
import { GlmvError } from "../util/errors.ts";
import { scoreInputsError } from "./item-schema.ts";
import { applyJudge, JudgeConfig, type JudgeConfigInput } from "./judge.ts";
import { RewardPool, type RewardPoolOptions, type ScoreCallbacks } from "./pool.ts";
import type { ScoredResult, ScoreInput } from "./system.ts";

export type ScoreItemsOptions = RewardPoolOptions &
  ScoreCallbacks & {
    /** Optional LLM judge (off when absent); see `judge.ts`. */
    judge?: JudgeConfigInput | undefined;
  };

/** The judge option as a typed config; a bad one is a `bad_config` error naming the field (`judge.judges.0.url`). */
function parseJudgeConfig(input: JudgeConfigInput): JudgeConfig {
  const parsed = JudgeConfig.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = ["judge", ...(issue?.path ?? []).map(String)].join(".");
  throw new GlmvError("bad_config", issue?.message ?? "invalid judge config", { where });
}

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
  const judge = opts.judge === undefined ? undefined : parseJudgeConfig(opts.judge);
  // Before any worker starts: a bad item is the caller's bug, named by its field (`items.3.response`).
  const invalid = scoreInputsError(items);
  if (invalid !== null) throw invalid;
  if (items.length === 0) return [];
  const pool = new RewardPool(opts);
  try {
    const results = await pool.score(items, opts);
    return judge === undefined ? results : await applyJudge(items, results, judge);
  } finally {
    await pool.close();
  }
}

export { DOMAINS, type Domain, type ResponseStyle, STYLES } from "../model/domains.ts";
export { extractAnswer, extractBoxedAnswer, extractGsm8kAnswer } from "./answer-formats.ts";
export { cleanAnswer, stripBoxTokens, stripThinking } from "./clean.ts";
export {
  applyIouSchedule,
  type IouSchedule,
  IouScheduleSchema,
  iouThresholdAt,
  rollDynamicSchedule,
} from "./detection-schedule.ts";
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
export {
  canonicalToolCalls,
  parseToolCalls,
  type ToolCall,
  verifyToolCall,
} from "./tool-calls.ts";
export * from "./types.ts";
