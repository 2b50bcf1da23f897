/**
 * `glmv reward score --in items.jsonl --out scored.jsonl [--style 4.1v|4.5v] [--no-thinking] [--deadline-ms N]`
 * Scores every line through the worker pool. A malformed line becomes an output line with an `error` field and the
 * run goes on. Exit codes: 0 scored; 1 scoring or writing failed; 2 a usage or input mistake (bad options, an
 * unreadable --in, an unwritable or same-as-input --out, or no valid line at all — the output is still written).
 */
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { DOMAINS } from "../model/domains.ts";
import { ScoreInputSchema } from "../reward/item-schema.ts";
import { applyJudge, JudgeConfig } from "../reward/judge.ts";
import { RewardPool } from "../reward/pool.ts";
import type { ScoredResult, ScoreInput } from "../reward/system.ts";
import { isGlmvError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { numberArgOrMessage, parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "./failure.ts";
import { checkOutputPath } from "./paths.ts";
import { createProgress } from "./progress.ts";

/** Most worker threads worth starting here: 4 per core (they mostly wait on deadlines), never more than 64. */
export const MAX_WORKERS = Math.min(64, 4 * availableParallelism());

const USAGE = `usage: glmv reward score --in items.jsonl --out scored.jsonl [options]

Scores each JSONL line {"id","domain","response","answer","question"?,"options"?,"style"?,"verifiable"?,
"answerFormat"?: glmv|gsm8k|boxed} and writes the line plus {"reward","correct","format","extracted","timedOut",
"reason","stage"} ("judgeError" where the LLM judges could not decide: stage "judge_error", the verifier's score). An invalid line is written back
with an "error" field naming the line and field, and the run goes on. The summary counts verifier errors (stage
"verifier_error": the reward code threw, reward 0) apart from wrong answers: any at all is a bug to report.

options:
  --in PATH            input JSONL (required)
  --out PATH           output JSONL, written atomically (required; its folder must exist; not the --in file)
  --style 4.1v|4.5v    response style of the run (default 4.1v; an item's own "style" wins)
  --no-thinking        the responses were generated with thinking off (GLM-4.5V/4.6V non-thinking mode: the prompt
                       pre-filled an empty <think></think>): a response without a think block is scored as if it
                       had that one; a response with its own think block is scored as written
  --deadline-ms N      hard deadline per item in ms (default 2000)
  --workers N          worker threads, 1 to ${MAX_WORKERS} on this machine (default: available parallelism)
  --judge-config PATH  JSON LLM-judge config {"judges":[{"url","model","apiKey"?}],…} (default: no judge)
  -h, --help           show this help

exit codes: 0 scored (invalid lines carry an "error"); 1 scoring or writing failed; 2 bad options, an unreadable
--in or --judge-config, an unwritable --out, or no valid line in --in (the output is still written)`;

type ParsedLine = { ok: true; raw: Record<string, unknown>; item: ScoreInput } | { ok: false; out: object };

/** Parse one input line; a bad line becomes its output line with `error` naming the line and field. */
export function parseItemLine(text: string, lineNo: number): ParsedLine {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return {
      ok: false,
      out: invalid({ line: lineNo }, `line ${lineNo}: invalid JSON: ${(e as Error).message}`),
    };
  }
  const parsed = ScoreInputSchema.safeParse(raw);
  if (parsed.success)
    return { ok: true, raw: raw as Record<string, unknown>, item: parsed.data as ScoreInput };
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join(".") : "(line)";
  const base = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? raw : { line: lineNo };
  return {
    ok: false,
    out: invalid(base, `line ${lineNo}: field '${field}': ${issue?.message ?? "invalid"}`),
  };
}

function invalid(base: object, error: string): object {
  return {
    ...base,
    reward: 0,
    correct: false,
    format: "invalid_input",
    extracted: null,
    timedOut: false,
    error,
  };
}

/** Per-domain totals for the end-of-run table. */
export type DomainSummary = {
  domain: string;
  count: number;
  meanReward: number;
  accuracy: number;
  timeouts: number;
  formatFails: number;
  /** Items whose verifier threw (stage "verifier_error"): a reward-code bug, not a wrong answer. */
  verifierErrors: number;
  /** Items whose LLM judges could not decide (unreachable, 5xx, no verdict): the verifier's score stood. */
  judgeErrors: number;
};

/** Summarise scored items per domain (in `DOMAINS` order, then a total row). */
export function summarize(items: readonly ScoreInput[], results: readonly ScoredResult[]): DomainSummary[] {
  const rows = new Map<
    string,
    {
      count: number;
      reward: number;
      correct: number;
      timeouts: number;
      fmt: number;
      verifierErrors: number;
      judge: number;
    }
  >();
  const add = (key: string, r: ScoredResult) => {
    const row = rows.get(key) ?? {
      count: 0,
      reward: 0,
      correct: 0,
      timeouts: 0,
      fmt: 0,
      verifierErrors: 0,
      judge: 0,
    };
    row.count++;
    row.reward += r.reward;
    row.correct += r.correct ? 1 : 0;
    row.timeouts += r.timedOut ? 1 : 0;
    row.fmt += r.format !== "ok" ? 1 : 0;
    row.verifierErrors += r.stage === "verifier_error" ? 1 : 0;
    row.judge += r.stage === "judge_error" ? 1 : 0;
    rows.set(key, row);
  };
  results.forEach((r, i) => {
    add(items[i]!.domain, r);
    add("total", r);
  });
  return [...DOMAINS, "total"].flatMap((domain) => {
    const row = rows.get(domain);
    if (!row) return [];
    const { count, reward, correct, timeouts, fmt, verifierErrors, judge } = row;
    const meanReward = reward / count;
    return [
      {
        domain,
        count,
        meanReward,
        accuracy: correct / count,
        timeouts,
        formatFails: fmt,
        verifierErrors,
        judgeErrors: judge,
      },
    ];
  });
}

/** Render the summary as an aligned text table. */
export function formatSummary(rows: readonly DomainSummary[]): string {
  const header = [
    "domain",
    "count",
    "mean reward",
    "accuracy",
    "timeouts",
    "format fails",
    "verifier errors",
    "judge errors",
  ];
  const body = rows.map((r) => [
    r.domain,
    String(r.count),
    r.meanReward.toFixed(3),
    `${(100 * r.accuracy).toFixed(1)}%`,
    String(r.timeouts),
    String(r.formatFails),
    String(r.verifierErrors),
    String(r.judgeErrors),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [line(header), ...body.map(line)].join("\n");
}

type Args = {
  in: string;
  out: string;
  style: "4.1v" | "4.5v";
  thinking: boolean;
  deadlineMs: number;
  workers?: number;
  judgeConfig?: string;
};

/** Parse argv; a string is a usage error to print (exit 2), null means --help was printed. */
function parseScoreArgs(argv: string[]): Args | string | null {
  const values = parseCliArgs(argv, {
    in: { type: "string" },
    out: { type: "string" },
    style: { type: "string", default: "4.1v" },
    "no-thinking": { type: "boolean", default: false },
    "deadline-ms": { type: "string", default: "2000" },
    workers: { type: "string" },
    "judge-config": { type: "string" },
  });
  if (typeof values === "string") return values;
  if (values.help) return null;
  if (typeof values.in !== "string" || typeof values.out !== "string") return "--in and --out are required";
  const style = values.style as string;
  if (style !== "4.1v" && style !== "4.5v") return `--style must be 4.1v or 4.5v, got '${style}'`;
  const deadlineMs = numberArgOrMessage(values, "deadline-ms", { integer: true, min: 1 });
  if (typeof deadlineMs === "string") return deadlineMs;
  const workers = numberArgOrMessage(values, "workers", { integer: true, min: 1, max: MAX_WORKERS });
  if (typeof workers === "string")
    return `${workers} (at most 4 per core on this ${availableParallelism()}-core machine, 64 in all)`;
  const args: Args = {
    in: values.in,
    out: values.out,
    style,
    thinking: values["no-thinking"] !== true,
    deadlineMs: deadlineMs.value!,
  };
  if (workers.value !== undefined) args.workers = workers.value;
  if (typeof values["judge-config"] === "string") args.judgeConfig = values["judge-config"];
  return args;
}

/** Read and validate the judge config; a message (not a throw) when it is unreadable or invalid. */
async function loadJudge(path: string | undefined): Promise<JudgeConfig | undefined | string> {
  if (path === undefined) return undefined;
  try {
    const parsed = JudgeConfig.safeParse(JSON.parse(await readFile(path, "utf8")));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    return `invalid --judge-config ${path}: field '${issue?.path.join(".") ?? ""}': ${issue?.message ?? "invalid"}`;
  } catch (e) {
    return `cannot read --judge-config: ${(e as Error).message}`;
  }
}

/** Split the input into output slots: invalid lines keep their error, valid ones wait for their score. */
export function parseItems(text: string): {
  outLines: object[];
  valid: { slot: number; raw: Record<string, unknown>; item: ScoreInput }[];
} {
  const outLines: object[] = [];
  const valid: { slot: number; raw: Record<string, unknown>; item: ScoreInput }[] = [];
  // a UTF-8 byte-order mark (Windows editors add one) is not part of line 1's JSON
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  body.split("\n").forEach((line, i) => {
    if (line.trim().length === 0) return;
    const parsed = parseItemLine(line, i + 1);
    if (parsed.ok) valid.push({ slot: outLines.length, raw: parsed.raw, item: parsed.item });
    outLines.push(parsed.ok ? {} : parsed.out);
  });
  return { outLines, valid };
}

/** Score the valid items in a worker pool (with a progress bar), then the judge where one is configured. */
async function scoreWithPool(
  items: ScoreInput[],
  args: Pick<Args, "deadlineMs" | "style" | "thinking" | "workers">,
  judge: Exclude<Awaited<ReturnType<typeof loadJudge>>, string>,
): Promise<ScoredResult[]> {
  if (items.length === 0) return [];
  const progress = createProgress(items.length, { label: "scoring" });
  const { deadlineMs, style, thinking, workers } = args;
  const pool = new RewardPool({ deadlineMs, style, thinking, workers });
  try {
    const results = await pool.score(items, { onResult: () => progress.tick() });
    return judge ? await applyJudge(items, results, judge) : results;
  } finally {
    progress.stop();
    await pool.close();
  }
}

async function run(argv: string[]): Promise<number> {
  const args = parseScoreArgs(argv);
  if (args === null) {
    console.log(USAGE);
    return EXIT_OK;
  }
  if (typeof args === "string") {
    console.error(`glmv reward score: ${args}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  let text: string;
  try {
    text = await readFile(args.in, "utf8");
  } catch (e) {
    console.error(`glmv reward score: cannot read --in ${args.in}: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
  try {
    await checkOutputPath(args.out, "--out", { "--in": args.in });
  } catch (e) {
    if (!isGlmvError(e)) throw e;
    console.error(`glmv reward score: ${e.message}`);
    return EXIT_USAGE;
  }
  const judge = await loadJudge(args.judgeConfig);
  if (typeof judge === "string") {
    console.error(`glmv reward score: ${judge}`);
    return EXIT_USAGE;
  }

  const { outLines, valid } = parseItems(text);
  const items = valid.map((v) => v.item);
  const results = await scoreWithPool(items, args, judge);
  valid.forEach((v, k) => {
    outLines[v.slot] = { ...v.raw, ...results[k]! };
  });

  try {
    await writeFileAtomic(
      args.out,
      outLines.map((o) => JSON.stringify(o)).join("\n") + (outLines.length ? "\n" : ""),
    );
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    console.error(`glmv reward score: cannot write --out ${args.out}: ${code}`);
    return EXIT_FAILED;
  }
  const bad = outLines.length - valid.length;
  if (valid.length === 0) {
    console.error(
      `glmv reward score: no valid line in --in ${args.in} (${bad} invalid; each one's "error" is in ${args.out})`,
    );
    return EXIT_USAGE;
  }
  const summary = summarize(items, results);
  console.log(formatSummary(summary));
  const verifierErrors = summary.at(-1)?.verifierErrors ?? 0;
  if (verifierErrors > 0) {
    // Not a wrong answer: the reward code threw, so these items say nothing about the responses.
    console.error(
      `glmv reward score: ${verifierErrors} item${verifierErrors === 1 ? "" : "s"} hit a verifier error (stage "verifier_error", reward 0): a bug in the reward code; each reason is in ${args.out}`,
    );
  }
  console.log(`${valid.length} scored, ${bad} invalid line${bad === 1 ? "" : "s"} → ${args.out}`);
  return EXIT_OK;
}

export const rewardScoreCommand: Command = { summary: "score JSONL responses with the reward system", run };
