/**
 * glmv's synthetic suites (counting, OCR, chart, math, grounding, GUI; `src/data/tasks/`) as an eval task, scored by
 * glmv's own reward system — the held-out figure `glmv rl` reports, for any model the harness can ask.
 *
 * `--data synthetic=SPEC`: `seed=1,per-family=16,size=56,families=counting+ocr,split=heldout` (every key optional),
 * or an empty SPEC for those defaults. A response in GLM's format goes through the full format gate, as in RL; a
 * response without GLM markers is judged on its extracted answer alone (an outside model is not marked down for
 * not speaking GLM's format).
 */
import { encodePng } from "../../data/tasks/png.ts";
import { buildSuite } from "../../data/tasks/suite.ts";
import { SPLITS, type Split, TASK_FAMILIES, type TaskFamily, type TaskItem } from "../../data/tasks/types.ts";
import type { ResponseStyle } from "../../model/domains.ts";
import { SPECIAL_TOKENS } from "../../model/special-tokens.ts";
import { type ScoreInput, scoreItem } from "../../reward/system.ts";
import { GlmvError } from "../../util/errors.ts";
import { breakdownBy, meanScore } from "../scoring/breakdown.ts";
import type { EvalItem, EvalTask, ItemVerdict, ScoringInput, TaskSummary } from "../types.ts";

const { thinkStart, thinkEnd, answerStart, beginBox, endBox } = SPECIAL_TOKENS;

export type SyntheticSpec = {
  seed: number;
  perFamily: number;
  size: number;
  families: TaskFamily[];
  split: Split;
};

const DEFAULT_SPEC: SyntheticSpec = {
  seed: 1,
  perFamily: 16,
  size: 56,
  families: [...TASK_FAMILIES],
  split: "heldout",
};

/** The item fields the reward system needs (everything else of a TaskItem stays out of samples and caches). */
type SyntheticFields = Pick<TaskItem, "family" | "domain" | "level" | "question" | "options"> & {
  answer: string;
};
export type SyntheticItem = EvalItem & { fields: SyntheticFields };

const intOf = (key: string, value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new GlmvError("bad_argument", `${key} must be an integer ≥ 0, got '${value}'`, {
      where: "--data synthetic",
    });
  return n;
};

/**
 * Parse `seed=1,per-family=16,…` (empty → the defaults).
 * @example parseSyntheticSpec("per-family=4,families=counting+ocr").families // ["counting", "ocr"]
 */
export function parseSyntheticSpec(text: string): SyntheticSpec {
  const spec = { ...DEFAULT_SPEC };
  for (const part of text.split(",").filter((p) => p.trim() !== "")) {
    const [key, value = ""] = part.split("=").map((s) => s.trim()) as [string, string?];
    if (key === "seed") spec.seed = intOf(key, value);
    else if (key === "per-family") spec.perFamily = intOf(key, value);
    else if (key === "size") spec.size = intOf(key, value);
    else if (key === "split" && (SPLITS as readonly string[]).includes(value)) spec.split = value as Split;
    else if (key === "families") {
      const names = value.split("+");
      const unknown = names.find((f) => !(TASK_FAMILIES as readonly string[]).includes(f));
      if (unknown !== undefined)
        throw new GlmvError(
          "bad_argument",
          `unknown family '${unknown}' (known: ${TASK_FAMILIES.join(", ")})`,
          { where: "--data synthetic" },
        );
      spec.families = names as TaskFamily[];
    } else
      throw new GlmvError(
        "bad_argument",
        `unknown synthetic setting '${part}' (seed, per-family, size, families, split)`,
        { where: "--data synthetic" },
      );
  }
  return spec;
}

async function toEvalItem(item: TaskItem): Promise<SyntheticItem> {
  const { family, domain, level, question, options, answer } = item;
  return {
    id: item.id,
    prompt: question,
    images: [{ bytes: await encodePng(item.image), mime: "image/png" }],
    gold: answer,
    fields: { family, domain, level, question, options, answer },
  };
}

/** The style a GLM response is written in (4.1V wraps the answer in `<answer>`), or null without GLM markers. */
function glmStyleOf(response: string): ResponseStyle | null {
  if (response.includes(answerStart)) return "4.1v";
  if (response.includes(thinkEnd) || response.includes(beginBox)) return "4.5v";
  return null;
}

/** Score one answer with the reward system (the format gate only for responses in GLM's format). */
function scoreOne({ item, response, answer }: ScoringInput<SyntheticItem>): ItemVerdict {
  const style = glmStyleOf(response);
  const input: ScoreInput = {
    id: item.id,
    domain: item.fields.domain,
    answer: item.fields.answer,
    question: item.fields.question,
    options: item.fields.options,
    response: style ? response : `${thinkStart}${thinkEnd}${beginBox}${answer.trim()}${endBox}`,
    style: style ?? "4.5v",
  };
  const result = scoreItem(input);
  return { score: result.correct ? 1 : 0, extracted: result.extracted };
}

export const task: EvalTask<SyntheticItem> = {
  name: "synthetic",
  description:
    "glmv's synthetic suites (counting, OCR, chart, math, grounding, GUI), scored by glmv's reward system",
  answerScope: "box",
  async load(spec: string) {
    const s = parseSyntheticSpec(spec);
    const items = buildSuite({
      seed: s.seed,
      perFamily: s.perFamily,
      size: s.size,
      families: s.families,
      split: s.split,
    });
    return Promise.all(items.map(toEvalItem));
  },
  fromRecord(record, line) {
    const { id, family, domain, level, question, options, answer, response } = record as Record<
      string,
      unknown
    >;
    if (
      typeof id !== "string" ||
      typeof answer !== "string" ||
      typeof domain !== "string" ||
      typeof response !== "string"
    ) {
      throw new GlmvError("bad_input", "a synthetic record needs string id, domain, answer and response", {
        where: `line ${line}`,
      });
    }
    const fields = {
      family,
      domain,
      level,
      question: String(question ?? ""),
      options,
      answer,
    } as SyntheticFields;
    return { item: { id, prompt: fields.question, images: [], gold: answer, fields }, response };
  },
  scoreAll: (inputs) => inputs.map(scoreOne),
  summarize(items, verdicts): TaskSummary {
    const accuracy = meanScore(verdicts.map((v) => v.score));
    return {
      headline: accuracy,
      metric: "accuracy",
      unit: "fraction",
      accuracy,
      breakdowns: {
        family: breakdownBy(
          items.map((i) => i.fields.family),
          verdicts,
        ),
        level: breakdownBy(
          items.map((i) => String(i.fields.level)),
          verdicts,
        ),
      },
    };
  },
  maxTokens: 256,
};
