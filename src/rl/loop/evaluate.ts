/**
 * Held-out evaluation (design.md: evaluate on held-out synthetic items): greedy decoding through any `Policy`,
 * then the reward system decides each answer. Reports overall and per-family accuracy, the format-gate pass rate
 * and the mean reward.
 */

import { promptFromItem } from "../../data/task-encoding.ts";
import type { TaskItem } from "../../data/tasks/types.ts";
import type { ResponseStyle } from "../../model/domains.ts";
import type { ScoredResult, ScoreInput } from "../../reward/system.ts";
import { scoreItem } from "../../reward/system.ts";
import type { Policy, Rollout } from "./policy.ts";
import type { Scorer } from "./trainer.ts";

/** Accuracy of one group of items. */
export type AccuracyCell = { n: number; correct: number; accuracy: number };

/** What `evaluateAccuracy` returns. */
export type AccuracyReport = AccuracyCell & {
  /** Share of responses that passed the format gate. */
  formatOk: number;
  meanReward: number;
  perFamily: Record<string, AccuracyCell>;
  /** By difficulty level (the key is the level number). */
  perLevel: Record<string, AccuracyCell>;
  /** Per item: the response text and its score (for logs and dashboards). */
  results: { id: string; family: string; text: string; reward: number; correct: boolean; format: string }[];
};

export type EvaluateOptions = {
  style: ResponseStyle;
  maxNewTokens: number;
  /** Tokens before `</think>` is forced; default `maxNewTokens` (no forcing). */
  thinkBudget?: number;
  seed?: number;
  /** Scores the responses (e.g. a run's worker pool); the default is the in-thread reward system (`scoreItem`). */
  score?: Scorer;
  /** 0 (default) decodes greedily; the rollout temperature measures the sampling policy RL optimises. */
  temperature?: number;
  /** false: responses have no think block (thinking off pre-fills an empty one in the prompt; reward `thinking`). */
  thinking?: boolean;
};

/** Score inputs of items and their one response each, ids the items' (gold answer, question and options). */
export function heldoutScoreInputs(
  items: readonly TaskItem[],
  texts: readonly string[],
  style: ResponseStyle,
): ScoreInput[] {
  return items.map((item, i) => ({
    id: item.id,
    domain: item.domain,
    answer: item.answer,
    question: item.question,
    options: item.options,
    response: texts[i] ?? "",
    style,
  }));
}

/**
 * Overall and per-family accuracy of scored items (pure).
 * @example summarizeAccuracy(items, results, texts).perFamily.counting.accuracy
 */
export function summarizeAccuracy(
  items: readonly TaskItem[],
  scored: readonly ScoredResult[],
  texts: readonly string[],
): AccuracyReport {
  const cell = (): AccuracyCell => ({ n: 0, correct: 0, accuracy: 0 });
  const all = cell();
  const perFamily: Record<string, AccuracyCell> = {};
  const perLevel: Record<string, AccuracyCell> = {};
  let format = 0;
  let reward = 0;
  const results: AccuracyReport["results"] = [];
  items.forEach((item, i) => {
    const r = scored[i];
    const correct = r?.correct ?? false;
    const fam = perFamily[item.family] ?? cell();
    perFamily[item.family] = fam;
    const lvl = perLevel[item.level] ?? cell();
    perLevel[item.level] = lvl;
    for (const c of [all, fam, lvl]) {
      c.n++;
      if (correct) c.correct++;
    }
    if (r?.format === "ok") format++;
    reward += r?.reward ?? 0;
    results.push({
      id: item.id,
      family: item.family,
      text: texts[i] ?? "",
      reward: r?.reward ?? 0,
      correct,
      format: r?.format ?? "missing",
    });
  });
  for (const c of [all, ...Object.values(perFamily), ...Object.values(perLevel)])
    c.accuracy = c.n > 0 ? c.correct / c.n : 0;
  const n = Math.max(1, items.length);
  return { ...all, formatOk: format / n, meanReward: reward / n, perFamily, perLevel, results };
}

/**
 * Decode every item once (greedily unless `temperature` > 0) and score the answers with the reward system.
 * @example
 * const report = await evaluateAccuracy(policy, heldout, { style: "4.1v", maxNewTokens: 48 });
 * report.accuracy; report.perFamily.counting.accuracy;
 */
export async function evaluateAccuracy(
  policy: Policy,
  items: readonly TaskItem[],
  opts: EvaluateOptions,
): Promise<AccuracyReport> {
  const groups: Rollout[][] = await policy.generate(items.map(promptFromItem), {
    n: 1,
    temperature: opts.temperature ?? 0,
    topP: 1,
    maxNewTokens: opts.maxNewTokens,
    thinkBudget: opts.thinkBudget ?? opts.maxNewTokens,
    style: opts.style,
    seed: opts.seed ?? 0,
  });
  const texts = groups.map((g) => g[0]?.text ?? "");
  const inputs = heldoutScoreInputs(items, texts, opts.style);
  const scoreOptions = { style: opts.style, ...(opts.thinking === false ? { thinking: false } : {}) };
  const score: Scorer = opts.score ?? (async (xs) => xs.map((x) => scoreItem(x, scoreOptions)));
  return summarizeAccuracy(items, await score(inputs), texts);
}
