/**
 * Optional LLM judge (reward-spec-official §1.3): a fallback for the few answers no deterministic rule can decide
 * (free-form text, named chemicals, chart labels). Off by default. Several judges vote by majority, as in the
 * release, but replies are parsed by whole tokens: the release's substring test reads "10.0" as containing "0.0".
 * Numeric and symbolic answers are never sent to a judge: the verifiers decide those exactly.
 */
import { z } from "zod";
import type { Domain } from "../model/domains.ts";
import { parsePlainNumber } from "./numbers.ts";
import type { RewardItem, RewardResult } from "./types.ts";

/** One OpenAI-compatible chat endpoint. `url` is the full `/chat/completions` URL. */
export const JudgeEndpoint = z.object({
  url: z.url(),
  model: z.string().min(1),
  apiKey: z.string().optional(),
  maxTokens: z.number().int().positive().default(2048),
  // Near-greedy decoding, as in the released configs (temperature 0.01).
  temperature: z.number().min(0).max(2).default(0.01),
});
export type JudgeEndpoint = z.infer<typeof JudgeEndpoint>;

/** Default prompt; `{question}`, `{predict}` and `{label}` are filled in one pass (content is never re-read). */
export const DEFAULT_JUDGE_TEMPLATE = [
  "You compare a model's final answer with the reference answer of a question. You see text only.",
  "Score 1.0 only if the answer is complete, definitive and means the same as the reference.",
  "Score 0.0 for a wrong answer, a hedged answer (several alternatives, a range, 'or'), an encoded or",
  "obfuscated answer, a method without a final value, or an answer that adds wrong items.",
  "",
  "Question: {question}",
  "Reference answer: {label}",
  "Model answer: {predict}",
  "",
  "Reply with exactly one of: 1.0 or 0.0",
].join("\n");

/** Domains where a judge may decide; math, counting, choice, OCR, grounding and GUI always have a rule. */
export const JUDGE_DOMAINS = ["text", "chart", "physics", "chemistry"] as const satisfies readonly Domain[];

export const JudgeConfig = z.object({
  judges: z.array(JudgeEndpoint).min(1),
  template: z.string().default(DEFAULT_JUDGE_TEMPLATE),
  domains: z.array(z.enum(JUDGE_DOMAINS)).default([...JUDGE_DOMAINS]),
  timeoutMs: z.number().int().positive().default(60_000),
  /** How many items are judged at once (each asks every judge in parallel). */
  concurrency: z.number().int().positive().default(8),
  /** Extra tries after a connection error or a 5xx (backoff 250 ms, 500 ms, …); a timeout is not retried. */
  retries: z.number().int().min(0).max(10).default(2),
});
export type JudgeConfig = z.infer<typeof JudgeConfig>;
/** A judge configuration as written by a user (defaults not applied yet). */
export type JudgeConfigInput = z.input<typeof JudgeConfig>;

/** A judge's vote: 1, 0, or null when it failed or its reply had no verdict. */
export type JudgeVote = 0 | 1 | null;

// A verdict is a whole token "1", "1.0", "0", "0.0" (any number of zeros) not touching other digits or dots,
// so "10.0", "0.01" and "2.0" are not verdicts.
const VERDICT = /(?<![\d.])([01])(?:\.0+)?(?![\d.])/g;

/**
 * Read a judge's reply: drop any `<think>…</think>`, then take the last verdict token (the verdict follows any
 * reasoning). Returns null when there is none.
 * @example parseJudgeReply("score: 10.0") // null
 * @example parseJudgeReply("The answers differ. 0.0") // 0
 */
export function parseJudgeReply(reply: string): JudgeVote {
  const text = reply.replace(/<think>[\s\S]*?<\/think>/gi, " ");
  let last: JudgeVote = null;
  for (const m of text.matchAll(VERDICT)) last = m[1] === "1" ? 1 : 0;
  return last;
}

/**
 * Fill `{question}`, `{predict}`, `{label}` in one pass; other braces are kept as written.
 * @example fillTemplate("Q {question} A {predict}", { question: "x", predict: "{label}", label: "y" }) // "Q x A {label}"
 */
export function fillTemplate(
  template: string,
  fields: { question: string; predict: string; label: string },
): string {
  return template.replace(/\{(question|predict|label)\}/g, (_, key: keyof typeof fields) => fields[key]);
}

/** True when the text is a number or looks like a formula: those are decided by rules, never by a judge. */
export function isNumericOrSymbolic(text: string): boolean {
  const s = text.trim();
  if (parsePlainNumber(s) !== null) return true;
  if (/\\[a-zA-Z]+|[\^_=<>≤≥]/.test(s)) return true;
  // Digits next to an operator: "3x+2", "2*5". Letters next to digits alone are allowed ("H2O", "A4 paper").
  return /\d\s*[+\-*/×÷]|[+\-*/×÷]\s*\d/.test(s);
}

/** Whether an already scored item is one a judge may decide: verified, wrong, textual, in a judged domain. */
export function needsJudge(
  item: RewardItem,
  result: RewardResult & { stage?: string },
  config: JudgeConfig,
): boolean {
  if (result.correct || result.timedOut || result.format !== "ok" || result.extracted === null) return false;
  if (result.stage !== undefined && result.stage !== "verify") return false;
  if ((result.penalties?.length ?? 0) > 0) return false;
  if (!(config.domains as readonly string[]).includes(item.domain)) return false;
  return !isNumericOrSymbolic(result.extracted) && !isNumericOrSymbolic(item.answer);
}

/** One judge's answer: its reply text, or why there is none. */
export type JudgeReply = { ok: true; text: string } | { ok: false; error: string };

const RETRY_BASE_MS = 250;

/** Why a fetch failed, in a few words: the socket error code when there is one ("ECONNREFUSED"). */
function fetchFailure(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError"))
    return `timed out after ${timeoutMs} ms`;
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * POST one prompt to one endpoint. Connection errors and 5xx are retried `retries` times with backoff; a timeout,
 * a 4xx and a reply without message content are not. Never throws: a failure is `{ ok: false, error }`.
 */
export async function askJudge(
  endpoint: JudgeEndpoint,
  prompt: string,
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
  retries = 0,
): Promise<JudgeReply> {
  let error = "";
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** (attempt - 1)));
    let res: Response;
    try {
      res = await fetchImpl(endpoint.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: endpoint.model,
          messages: [{ role: "user", content: prompt }],
          stream: false,
          max_tokens: endpoint.maxTokens,
          temperature: endpoint.temperature,
        }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      error = fetchFailure(e, timeoutMs);
      if (error.startsWith("timed out")) break;
      continue;
    }
    if (!res.ok) {
      error = `HTTP ${res.status}`;
      await res.body?.cancel();
      if (res.status >= 500) continue;
      break;
    }
    try {
      const body = (await res.json()) as { choices?: { message?: { content?: unknown } }[] };
      const content = body.choices?.[0]?.message?.content;
      return typeof content === "string"
        ? { ok: true, text: content }
        : { ok: false, error: "reply has no choices[0].message.content" };
    } catch (e) {
      return { ok: false, error: `reply is not JSON (${fetchFailure(e, timeoutMs)})` };
    }
  }
  return { ok: false, error: error || "no reply" };
}

/** The verdict of several judges: `error` is set when failed judges leave the majority undecided. */
export type JudgeVerdict = { correct: boolean; votes: JudgeVote[]; error: string | null };

/**
 * Ask every judge and take the majority: correct iff more than half of the judges vote 1. A judge that fails
 * (unreachable, 5xx after retries, timeout, no verdict in its reply) does not vote; when the votes that came could
 * go either way with the missing ones, the verdict is an error (never a silent "no"), naming each failure.
 */
export async function judgeAnswer(
  config: JudgeConfig,
  fields: { question: string; predict: string; label: string },
  fetchImpl: typeof fetch = fetch,
): Promise<JudgeVerdict> {
  const prompt = fillTemplate(config.template, fields);
  const replies = await Promise.all(
    config.judges.map((j) => askJudge(j, prompt, config.timeoutMs, fetchImpl, config.retries)),
  );
  const failures: string[] = [];
  const votes = replies.map((reply, i): JudgeVote => {
    const judge = config.judges[i]!;
    if (!reply.ok) {
      failures.push(`judge ${i} (${judge.model} at ${judge.url}): ${reply.error}`);
      return null;
    }
    const vote = parseJudgeReply(reply.text);
    if (vote === null)
      failures.push(
        `judge ${i} (${judge.model}): no verdict in reply ${JSON.stringify(reply.text.slice(0, 80))}`,
      );
    return vote;
  });
  const half = config.judges.length / 2;
  const ones = votes.filter((v) => v === 1).length;
  if (ones > half) return { correct: true, votes, error: null };
  // Decided "no" only when even every missing vote being 1 could not make a majority.
  if (ones + failures.length <= half) return { correct: false, votes, error: null };
  return { correct: false, votes, error: failures.join("; ") };
}

/**
 * Re-decide the items `needsJudge` selects; others are returned unchanged. A judged item gets reward 1 or keeps
 * its verifier's score, and a reason naming the votes. When the judges cannot decide (see `judgeAnswer`) the item
 * keeps its verifier's score with `stage: "judge_error"` and `judgeError` saying why, so it can be counted.
 * @example const results2 = await applyJudge(items, results, JudgeConfig.parse({ judges: [{ url, model }] }));
 */
export async function applyJudge<R extends RewardResult>(
  items: readonly RewardItem[],
  results: readonly R[],
  config: JudgeConfig,
  fetchImpl: typeof fetch = fetch,
): Promise<R[]> {
  const out = results.slice();
  const todo = items.map((_, i) => i).filter((i) => needsJudge(items[i]!, results[i]!, config));
  let next = 0;
  const runOne = async (): Promise<void> => {
    while (next < todo.length) {
      const i = todo[next++]!;
      const item = items[i]!;
      const before = results[i]!;
      const verdict = await judgeAnswer(
        config,
        { question: item.question ?? "", predict: before.extracted ?? "", label: item.answer },
        fetchImpl,
      );
      const votes = verdict.votes.map((v) => (v === null ? "-" : String(v))).join(",");
      if (verdict.error !== null) {
        out[i] = {
          ...before,
          stage: "judge_error",
          judgeError: verdict.error,
          reason: `${before.reason ?? "wrong"}; judge error (votes ${votes}): ${verdict.error}`,
        };
        continue;
      }
      out[i] = verdict.correct
        ? { ...before, reward: 1, correct: true, reason: `judge: correct (votes ${votes})` }
        : { ...before, reason: `${before.reason ?? "wrong"}; judge: not correct (votes ${votes})` };
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, todo.length) }, runOne));
  return out;
}
