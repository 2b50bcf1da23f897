/**
 * Test fixture: a small letter task (a fake, for tests of the scoring pipeline and its outputs) and a scored run of
 * it, so results, report and compare tests share one definition.
 */
import { SPECIAL_TOKENS as T } from "../model/special-tokens.ts";
import type { RunMeta } from "./results.ts";
import { type RunRow, scoreTaskRun, type TaskRun } from "./score-run.ts";
import type { EvalItem, EvalTask, ItemVerdict } from "./types.ts";

/** Multiple choice by letter: the first character of the answer against the gold letter; "?" needs a judge. */
export function letterTask(name = "letters"): EvalTask {
  return {
    name,
    description: `${name} (test fake)`,
    answerScope: "box",
    load: async () => [],
    fromRecord: (record, line) => ({
      item: { id: String(record.id ?? line), prompt: "Which?", images: [], gold: record.answer, fields: {} },
      response: String(record.response),
    }),
    scoreAll: (inputs) =>
      inputs.map(({ item, answer }): ItemVerdict => {
        if (answer === "?") return { score: 0, extracted: null, needsJudge: true };
        const extracted = answer.trim().slice(0, 1) || null;
        return { score: extracted === item.gold ? 1 : 0, extracted };
      }),
    summarize(items, verdicts) {
      const accuracy = verdicts.reduce((s, v) => s + v.score, 0) / items.length;
      const byGold: Record<string, { n: number; score: number }> = {};
      items.forEach((it, i) => {
        const row = byGold[String(it.gold)] ?? { n: 0, score: 0 };
        byGold[String(it.gold)] = row;
        row.score = (row.score * row.n + verdicts[i]!.score) / (row.n + 1);
        row.n++;
      });
      return {
        headline: 100 * accuracy,
        metric: "accuracy",
        unit: "%",
        accuracy,
        breakdowns: { gold: byGold },
      };
    },
  };
}

export const letterItem = (id: string, gold: string, images: EvalItem["images"] = []): EvalItem => ({
  id,
  prompt: `Question ${id}: which letter?`,
  images,
  gold,
  fields: {},
});

/** A GLM-4.1V-style response whose box holds `letter`. */
export const glmResponse = (thinking: string, letter: string): string =>
  `${T.thinkStart}${thinking}${T.thinkEnd}${T.answerStart}${T.beginBox}${letter}${T.endBox}${T.answerEnd}`;

export const META: RunMeta = {
  glmvVersion: "0.0.0-test",
  model: "openai:http://127.0.0.1:1/v1#fake",
  settings: { thinking: true, maxTokens: 8192 },
  startedAt: "2025-01-01T00:00:00.000Z",
  finishedAt: "2025-01-01T00:01:00.000Z",
};

/** A scored run of `letterTask` over `rows` given as [id, gold, response or null]. */
export function letterRun(rows: [string, string, string | null][], name = "letters", seed = 0) {
  const task = letterTask(name);
  const runRows: RunRow[] = rows.map(([id, gold, response]) => ({ item: letterItem(id, gold), response }));
  const { run, samples } = scoreTaskRun(task, runRows, { extract: "auto", seed });
  return { run, samples, items: runRows.map((r) => r.item) } satisfies {
    run: TaskRun;
    samples: unknown[];
    items: EvalItem[];
  };
}
