/**
 * `glmv eval tasks`, `glmv eval score` and `glmv eval compare`: list the benchmarks, score saved model outputs with
 * a benchmark's official rules (no model), and compare two output folders. `glmv eval run` lives in eval-run.ts.
 * Exit codes (failure.ts): 0 done; 1 the job failed (a write failed); 2 a usage or input mistake.
 */
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { compareRuns, formatComparison, loadRun } from "../eval/compare.ts";
import { parseJsonl } from "../eval/records.ts";
import { loadTask, TASK_NAMES } from "../eval/registry.ts";
import { RESULTS_FILE, SAMPLES_FILE, writeEvalOutputs } from "../eval/results.ts";
import { type RunRow, scoreTaskRun, type TaskRun } from "../eval/score-run.ts";
import { type EvalTask, type ExtractMode, ExtractModeSchema } from "../eval/types.ts";
import { GlmvError, isGlmvError } from "../util/errors.ts";
import { choiceArg, numberArg, parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { EXIT_OK, EXIT_USAGE } from "./failure.ts";
import { checkOutputPath } from "./paths.ts";
import { packageVersion } from "./version.ts";

const TASKS_USAGE = `usage: glmv eval tasks [--json]

Lists the benchmarks glmv can score, with what each one is.

options:
  --json       one JSON array of {"name","description","answerScope"}
  -h, --help   show this help`;

const SCORE_USAGE = `usage: glmv eval score --task T --responses FILE --out DIR [options]

Scores saved model outputs with the benchmark's official rules (no model is run). FILE is JSONL: one line per
item with the benchmark's own fields plus "response" (null marks a request that failed: scored 0 and counted
against the 95% success rule). Writes DIR/results.json, DIR/samples.jsonl and DIR/report.html and prints the
headline.

options:
  --task T                    the benchmark (see \`glmv eval tasks\`)
  --responses FILE            the saved outputs (JSONL)
  --out DIR                   output folder (created if missing)
  --extract auto|glm|official how a response becomes the answer the official parser sees (default auto:
                              GLM's <think>/<answer>/box markers when present, else the response unchanged)
  --seed N                    seed of the bootstrap interval (default 0)
  -h, --help                  show this help`;

const COMPARE_USAGE = `usage: glmv eval compare A B [--json] [--seed N]

Compares two glmv eval output folders task by task: the headline of each, B − A, a paired bootstrap 95%
interval of the change in mean item score over the items both scored (matched by the benchmark's ids), and the
items that got better or worse.

options:
  --json       the comparison as JSON (every flipped id)
  --seed N     seed of the bootstrap interval (default 0)
  -h, --help   show this help`;

/** Print a usage mistake and the usage; exit 2. */
function usageError(command: string, message: string, usage: string): number {
  console.error(`glmv eval ${command}: ${message}\n\n${usage}`);
  return EXIT_USAGE;
}

async function runTasks(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, { json: { type: "boolean" } });
  if (typeof values === "string") return usageError("tasks", values, TASKS_USAGE);
  if (values.help) {
    console.log(TASKS_USAGE);
    return EXIT_OK;
  }
  const rows = await Promise.all(
    TASK_NAMES.map(async (name) => {
      try {
        const task = await loadTask(name);
        return { name, description: task.description, answerScope: task.answerScope };
      } catch (e) {
        return { name, description: `(cannot load: ${(e as Error).message})`, answerScope: null };
      }
    }),
  );
  if (values.json) {
    console.log(JSON.stringify(rows, null, 2));
    return EXIT_OK;
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) console.log(`${r.name.padEnd(width)}  ${r.description}`);
  return EXIT_OK;
}

/** The task named by --task; an unknown name is a usage mistake naming the known ones. */
async function taskNamed(name: string): Promise<EvalTask> {
  if (!TASK_NAMES.includes(name)) {
    throw new GlmvError("bad_argument", `--task: unknown task '${name}' (known: ${TASK_NAMES.join(", ")})`);
  }
  return loadTask(name);
}

/**
 * The rows of a responses JSONL through the task's `fromRecord`; `"response": null` is a failed request. An error
 * names the file and line.
 */
async function readResponses(task: EvalTask, path: string): Promise<RunRow[]> {
  const text = await readFile(path, "utf8");
  const records = parseJsonl(text, path);
  // parseJsonl skips blank lines: the same rule gives each record its line number
  const lineNumbers = text.split("\n").flatMap((l, i) => (l.trim() === "" ? [] : [i + 1]));
  return records.map((record, k) => {
    const line = lineNumbers[k]!;
    const failed = record.response === null;
    try {
      const { item, response } = task.fromRecord(failed ? { ...record, response: "" } : record, line);
      return { item, response: failed ? null : response };
    } catch (e) {
      if (!isGlmvError(e)) throw e;
      const message = e.where ? e.message.replace(` (at ${e.where})`, "") : e.message;
      throw new GlmvError(e.code, message, { where: `${path}:${line}`, cause: e });
    }
  });
}

/** A one-line headline: the benchmark's number in its unit, the interval, n and the success rate. */
export function headlineLine(run: TaskRun): string {
  const { headline, unit, metric, accuracy } = run.summary;
  const value = `${Number.isInteger(headline) ? headline : headline.toFixed(2)}${unit === "%" ? "%" : unit ? ` ${unit}` : ""}`;
  const share = (x: number) => `${(100 * x).toFixed(1)}%`;
  const ci = run.interval
    ? accuracy !== undefined
      ? `, 95% CI ${share(run.interval.low)}–${share(run.interval.high)}`
      : `, 95% CI of the mean item score ${run.interval.low.toFixed(3)}–${run.interval.high.toFixed(3)}`
    : "";
  const judge = run.needsJudge > 0 ? `, ${run.needsJudge} need a judge (scored 0)` : "";
  const counts = run.counts ? "" : " — below 95%: does not count (paper §6)";
  return `${run.task}: ${metric} ${value}${ci} (n ${run.n}, ${share(run.successRate)} succeeded${counts}${judge})`;
}

async function runScore(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, {
    task: { type: "string" },
    responses: { type: "string" },
    out: { type: "string" },
    extract: { type: "string", default: "auto" },
    seed: { type: "string" },
  });
  if (typeof values === "string") return usageError("score", values, SCORE_USAGE);
  if (values.help) {
    console.log(SCORE_USAGE);
    return EXIT_OK;
  }
  const missing = ["task", "responses", "out"].filter((k) => typeof values[k] !== "string");
  if (missing.length > 0)
    return usageError("score", `${missing.map((k) => `--${k}`).join(", ")} required`, SCORE_USAGE);
  const extract = choiceArg(values, "extract", ExtractModeSchema.options)!;
  const seed = numberArg(values, "seed", { integer: true, min: 0 }) ?? 0;
  const task = await taskNamed(values.task as string);
  const responses = values.responses as string;
  const out = values.out as string;
  const outStat = await stat(out).catch(() => undefined);
  if (outStat && !outStat.isDirectory())
    throw new GlmvError("bad_argument", `--out ${out} is a file; give a folder`);
  // scoring a folder's own samples.jsonl into that folder would overwrite the input
  for (const file of [RESULTS_FILE, SAMPLES_FILE]) {
    if (!outStat) break;
    await checkOutputPath(join(out, file), "--out", { "--responses": responses }).catch((e: unknown) => {
      if (!isGlmvError(e) || !/same file/.test(e.message)) throw e;
      throw new GlmvError(
        "bad_argument",
        `--out ${out} holds --responses ${responses} (as ${file}); scoring would overwrite it: choose another folder`,
      );
    });
  }

  const { run, paths } = await scoreSavedResponses(task, responses, out, { extract, seed });
  console.log(headlineLine(run));
  console.log(`wrote ${paths.results}, ${paths.samples}, ${paths.report}`);
  return EXIT_OK;
}

/**
 * Score a JSONL of saved responses with `task`'s official rule and write results.json, samples.jsonl and
 * report.html into `out` (`glmv eval score`, and `glmv rl`'s held-out responses through the harness).
 * @example const { run } = await scoreSavedResponses(task, "runs/main/heldout-responses.jsonl", "runs/main/heldout", { extract: "auto" });
 */
export async function scoreSavedResponses(
  task: EvalTask,
  responses: string,
  out: string,
  opts: { extract: ExtractMode; seed?: number | undefined; model?: string | null },
): Promise<{ run: TaskRun; paths: { results: string; samples: string; report: string } }> {
  const startedAt = new Date().toISOString();
  const rows = await readResponses(task, responses);
  if (rows.length === 0) throw new GlmvError("bad_input", "no responses in the file", { where: responses });
  const { extract, seed } = opts;
  const { run, samples } = scoreTaskRun(task, rows, { extract, ...(seed !== undefined ? { seed } : {}) });
  const meta = {
    glmvVersion: packageVersion(),
    model: opts.model ?? null,
    settings: { responses: resolve(responses), task: task.name, extract, seed: seed ?? null },
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  const paths = await writeEvalOutputs(out, meta, [{ run, samples, items: rows.map((r) => r.item) }]);
  return { run, paths };
}

async function runCompare(argv: string[]): Promise<number> {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { json: { type: "boolean" }, seed: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (e) {
    return usageError("compare", (e as Error).message, COMPARE_USAGE);
  }
  if (parsed.values.help) {
    console.log(COMPARE_USAGE);
    return EXIT_OK;
  }
  if (parsed.positionals.length !== 2) {
    return usageError(
      "compare",
      `expected two output folders, got ${parsed.positionals.length}`,
      COMPARE_USAGE,
    );
  }
  const seed = numberArg(parsed.values, "seed", { integer: true, min: 0 }) ?? 0;
  const [a, b] = parsed.positionals as [string, string];
  const comparison = compareRuns(await loadRun(a), await loadRun(b), { seed });
  console.log(parsed.values.json ? JSON.stringify(comparison, null, 2) : formatComparison(comparison));
  return EXIT_OK;
}

export const evalTasksCommand: Command = { summary: "list the benchmarks glmv can score", run: runTasks };
export const evalScoreCommand: Command = {
  summary: "score saved model outputs with a benchmark's official rules",
  run: runScore,
};
export const evalCompareCommand: Command = {
  summary: "compare two eval output folders (deltas, paired interval, flipped items)",
  run: runCompare,
};
