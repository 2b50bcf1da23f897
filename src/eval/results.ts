/**
 * The output folder of an evaluation: `results.json` (per task: the headline in the benchmark's own unit, accuracy,
 * n, success rate, breakdowns, interval; plus the run's metadata), `samples.jsonl` (one line per item) and
 * `report.html`. The zod schemas here are the files' types; the readers check them (compare reads old folders).
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { parseOrThrow } from "../util/zod-error.ts";
import { renderEvalReport, reportThumbnails } from "./report-html.ts";
import type { SampleLine, TaskRun } from "./score-run.ts";
import { type EvalItem, ExtractModeSchema } from "./types.ts";

export const RESULTS_FILE = "results.json";
export const SAMPLES_FILE = "samples.jsonl";
export const REPORT_FILE = "report.html";

const count = z.number().int().nonnegative();

export const IntervalSchema = z.object({
  low: z.number(),
  high: z.number(),
  level: z.number().gt(0).lt(1),
  resamples: z.number().int().positive(),
  seed: z.number().int(),
});

/** One task's figures in results.json. `interval`: bootstrap interval of the mean item score (0–1). */
export const TaskResultSchema = z.object({
  task: z.string().min(1),
  headline: z.number(),
  metric: z.string(),
  unit: z.string(),
  accuracy: z.number().min(0).max(1).optional(),
  n: count,
  succeeded: count,
  successRate: z.number().min(0).max(1),
  /** The paper's rule (§6): the score counts only if ≥ 95% of the requests succeeded. */
  counts: z.boolean(),
  needsJudge: count,
  extract: ExtractModeSchema,
  interval: IntervalSchema.nullable(),
  breakdowns: z.record(z.string(), z.record(z.string(), z.object({ n: count, score: z.number() }))),
});
export type TaskResult = z.infer<typeof TaskResultSchema>;

/** What was run, by whom, when: `model` is the client's id, null when saved responses were scored. */
export const RunMetaSchema = z.object({
  glmvVersion: z.string(),
  model: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export type RunMeta = z.infer<typeof RunMetaSchema>;

export const ResultsSchema = RunMetaSchema.extend({
  formatVersion: z.literal(1),
  tasks: z.record(z.string(), TaskResultSchema),
});
export type Results = z.infer<typeof ResultsSchema>;

/** One samples.jsonl line (the file's type; `SampleLine` in score-run.ts is what writes it). */
export const SampleLineSchema = z.object({
  task: z.string().min(1),
  id: z.string(),
  score: z.number(),
  correct: z.boolean().optional(),
  extracted: z.string().nullable(),
  answer: z.string(),
  thinking: z.string(),
  response: z.string().nullable(),
  gold: z.unknown(),
  failed: z.literal(true).optional(),
  needsJudge: z.literal(true).optional(),
});

/** A task of a finished run, as the writers take it (`items` give the report its images and questions). */
export type EvalTaskOutput = { run: TaskRun; samples: SampleLine[]; items?: readonly EvalItem[] };

/**
 * results.json's entry for a task run.
 * @example taskResult(run).headline // 35.67 for MMMU's accuracy in %
 */
export function taskResult(run: TaskRun): TaskResult {
  const { summary } = run;
  return {
    task: run.task,
    headline: summary.headline,
    metric: summary.metric,
    unit: summary.unit,
    ...(summary.accuracy !== undefined ? { accuracy: summary.accuracy } : {}),
    n: run.n,
    succeeded: run.succeeded,
    successRate: run.successRate,
    counts: run.counts,
    needsJudge: run.needsJudge,
    extract: run.extract,
    interval: run.interval,
    breakdowns: summary.breakdowns,
  };
}

/**
 * Write `dir/results.json`, `dir/samples.jsonl` and `dir/report.html` (the folder is created; each file is written
 * to a temp file and renamed, so a reader never sees half a file). Returns the three paths.
 * @example await writeEvalOutputs("runs/mmmu", meta, [{ run, samples, items }])
 */
export async function writeEvalOutputs(
  dir: string,
  meta: RunMeta,
  tasks: readonly EvalTaskOutput[],
  opts: { imagesPerTask?: number } = {},
): Promise<{ results: string; samples: string; report: string }> {
  await mkdir(dir, { recursive: true });
  const results: Results = {
    formatVersion: 1,
    ...meta,
    tasks: Object.fromEntries(tasks.map((t) => [t.run.task, taskResult(t.run)])),
  };
  const paths = {
    results: join(dir, RESULTS_FILE),
    samples: join(dir, SAMPLES_FILE),
    report: join(dir, REPORT_FILE),
  };
  await writeFileAtomic(paths.results, `${JSON.stringify(results, null, 2)}\n`);
  const lines = tasks.flatMap((t) => t.samples.map((s) => JSON.stringify(s)));
  await writeFileAtomic(paths.samples, lines.length ? `${lines.join("\n")}\n` : "");
  const thumbnails = await reportThumbnails(tasks, opts.imagesPerTask);
  await writeFileAtomic(paths.report, renderEvalReport({ meta, tasks, thumbnails }));
  return paths;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === "ENOENT") throw new GlmvError("not_found", `no ${what}`, { where: path, cause });
    throw new GlmvError("io_error", `cannot read ${path}: ${code ?? (cause as Error).message}`, {
      where: path,
    });
  }
}

/** The 1-based line of a character offset. */
const lineAt = (text: string, offset: number): number => text.slice(0, offset).split("\n").length;

/** The line where a dotted path's last key sits in a JSON text (keys found in order; undefined if not found). */
function jsonLineOf(text: string, path: readonly PropertyKey[]): number | undefined {
  let at = 0;
  for (const key of path) {
    if (typeof key !== "string") continue;
    const found = text.indexOf(`${JSON.stringify(key)}:`, at);
    if (found === -1) return undefined;
    at = found;
  }
  return path.length ? lineAt(text, at) : undefined;
}

/**
 * `results.json` of an output folder, checked against its schema. A missing file is `not_found`; bad JSON or a
 * wrong field is `bad_input` naming file:line.
 * @example (await readResults("runs/a")).tasks.mmmu.accuracy
 */
export async function readResults(dir: string): Promise<Results> {
  const path = join(dir, RESULTS_FILE);
  const text = await readText(path, "results.json (not a glmv eval output folder?)");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    const at = /position (\d+)/.exec((cause as Error).message);
    const where = at ? `${path}:${lineAt(text, Number(at[1]))}` : path;
    throw new GlmvError("bad_input", `not valid JSON: ${(cause as Error).message}`, { where });
  }
  return parseOrThrow(ResultsSchema, raw, "bad_input", {
    source: path,
    lineOf: (p) => jsonLineOf(text, p),
  });
}

/**
 * Every line of `samples.jsonl` in an output folder (blank lines skipped); a bad line is `bad_input` naming file:line.
 * @example (await readSamples("runs/a")).filter((s) => s.task === "mmmu")
 */
export async function readSamples(dir: string): Promise<SampleLine[]> {
  const path = join(dir, SAMPLES_FILE);
  const text = await readText(path, "samples.jsonl");
  const samples: SampleLine[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const where = `${path}:${i + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (cause) {
      throw new GlmvError("bad_input", `not valid JSON: ${(cause as Error).message}`, { where });
    }
    samples.push(
      parseOrThrow(SampleLineSchema, raw, "bad_input", { source: path, lineOf: () => i + 1 }) as SampleLine,
    );
  }
  return samples;
}
