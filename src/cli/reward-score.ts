/**
 * `glmv reward score --in items.jsonl --out scored.jsonl [--style 4.1v|4.5v] [--deadline-ms N]`
 * Scores every line through the worker pool. A malformed line becomes an output line with an `error` field and the
 * run goes on; the exit code is non-zero only when a file cannot be read or written (2 for bad options).
 */
import { readFile } from "node:fs/promises";
import { ScoreInputSchema } from "../reward/item-schema.ts";
import { applyJudge, JudgeConfig } from "../reward/judge.ts";
import { RewardPool } from "../reward/pool.ts";
import type { ScoredResult, ScoreInput } from "../reward/system.ts";
import { DOMAINS } from "../reward/types.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { numberArgOrMessage, parseCliArgs } from "./args.ts";
import type { Command } from "./main.ts";
import { createProgress } from "./progress.ts";

const USAGE = `usage: glmv reward score --in items.jsonl --out scored.jsonl [options]

Scores each JSONL line {"id","domain","response","answer","question"?,"options"?,"style"?,"verifiable"?} and writes
the line plus {"reward","correct","format","extracted","timedOut","reason","stage"}.

options:
  --in PATH            input JSONL (required)
  --out PATH           output JSONL, written atomically (required)
  --style 4.1v|4.5v    response style of the run (default 4.1v; an item's own "style" wins)
  --deadline-ms N      hard deadline per item in ms (default 2000)
  --workers N          worker threads (default: available parallelism)
  --judge-config PATH  JSON LLM-judge config {"judges":[{"url","model","apiKey"?}],…} (default: no judge)
  -h, --help           show this help`;

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
};

/** Summarise scored items per domain (in `DOMAINS` order, then a total row). */
export function summarize(items: readonly ScoreInput[], results: readonly ScoredResult[]): DomainSummary[] {
  const rows = new Map<
    string,
    { count: number; reward: number; correct: number; timeouts: number; fmt: number }
  >();
  const add = (key: string, r: ScoredResult) => {
    const row = rows.get(key) ?? { count: 0, reward: 0, correct: 0, timeouts: 0, fmt: 0 };
    row.count++;
    row.reward += r.reward;
    row.correct += r.correct ? 1 : 0;
    row.timeouts += r.timedOut ? 1 : 0;
    row.fmt += r.format !== "ok" ? 1 : 0;
    rows.set(key, row);
  };
  results.forEach((r, i) => {
    add(items[i]!.domain, r);
    add("total", r);
  });
  return [...DOMAINS, "total"].flatMap((domain) => {
    const row = rows.get(domain);
    if (!row) return [];
    const { count, reward, correct, timeouts, fmt } = row;
    return [
      { domain, count, meanReward: reward / count, accuracy: correct / count, timeouts, formatFails: fmt },
    ];
  });
}

/** Render the summary as an aligned text table. */
export function formatSummary(rows: readonly DomainSummary[]): string {
  const header = ["domain", "count", "mean reward", "accuracy", "timeouts", "format fails"];
  const body = rows.map((r) => [
    r.domain,
    String(r.count),
    r.meanReward.toFixed(3),
    `${(100 * r.accuracy).toFixed(1)}%`,
    String(r.timeouts),
    String(r.formatFails),
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
  const workers = numberArgOrMessage(values, "workers", { integer: true, min: 1 });
  if (typeof workers === "string") return workers;
  const args: Args = { in: values.in, out: values.out, style, deadlineMs: deadlineMs.value! };
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

async function run(argv: string[]): Promise<number> {
  const args = parseScoreArgs(argv);
  if (args === null) {
    console.log(USAGE);
    return 0;
  }
  if (typeof args === "string") {
    console.error(`glmv reward score: ${args}\n\n${USAGE}`);
    return 2;
  }
  let text: string;
  try {
    text = await readFile(args.in, "utf8");
  } catch (e) {
    console.error(`glmv reward score: cannot read input: ${(e as Error).message}`);
    return 1;
  }
  const judge = await loadJudge(args.judgeConfig);
  if (typeof judge === "string") {
    console.error(`glmv reward score: ${judge}`);
    return 1;
  }

  const outLines: object[] = [];
  const valid: { slot: number; raw: Record<string, unknown>; item: ScoreInput }[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim().length === 0) return;
    const parsed = parseItemLine(line, i + 1);
    if (parsed.ok) valid.push({ slot: outLines.length, raw: parsed.raw, item: parsed.item });
    outLines.push(parsed.ok ? {} : parsed.out);
  });

  const items = valid.map((v) => v.item);
  const progress = createProgress(items.length, { label: "scoring" });
  const pool = new RewardPool({ deadlineMs: args.deadlineMs, style: args.style, workers: args.workers });
  let results: ScoredResult[];
  try {
    results = await pool.score(items, { onResult: () => progress.tick() });
    if (judge) results = await applyJudge(items, results, judge);
  } finally {
    progress.stop();
    await pool.close();
  }
  valid.forEach((v, k) => {
    outLines[v.slot] = { ...v.raw, ...results[k]! };
  });

  try {
    await writeFileAtomic(
      args.out,
      outLines.map((o) => JSON.stringify(o)).join("\n") + (outLines.length ? "\n" : ""),
    );
  } catch (e) {
    console.error(`glmv reward score: cannot write output: ${(e as Error).message}`);
    return 1;
  }
  console.log(formatSummary(summarize(items, results)));
  const bad = outLines.length - valid.length;
  console.log(`${valid.length} scored, ${bad} invalid line${bad === 1 ? "" : "s"} → ${args.out}`);
  return 0;
}

export const rewardScoreCommand: Command = { summary: "score JSONL responses with the reward system", run };
