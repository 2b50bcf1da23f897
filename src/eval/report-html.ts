/**
 * `report.html` of an evaluation: one self-contained file (inline CSS and script, images as data URLs, nothing
 * fetched). A per-task table, the breakdowns, and an item browser (filter by task and verdict; per item the image,
 * the question, the thinking collapsed, the answer, the extracted answer, the gold and the verdict).
 * The items travel as JSON in a `<script type="application/json">` and are shown with `textContent` only, so no
 * response text can end the script or become markup. `renderEvalReport` is pure; `reportThumbnails` reads images.
 */
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { escapeHtml, jsonForScript } from "../util/html.ts";
import { BROWSER_SCRIPT, REPORT_STYLE } from "./report-browser.ts";
import type { SampleLine, TaskRun } from "./score-run.ts";
import type { EvalImage, EvalItem } from "./types.ts";

/** A task as the report shows it; `items` (same order as `samples`) add questions and images. */
export type ReportTask = { run: TaskRun; samples: readonly SampleLine[]; items?: readonly EvalItem[] };

/** The run's metadata as results.json holds it (`RunMeta` there). */
export type ReportMeta = {
  model: string | null;
  glmvVersion: string;
  startedAt: string;
  finishedAt: string;
  settings: Record<string, unknown>;
};

export type ReportInput = {
  meta: ReportMeta;
  tasks: readonly ReportTask[];
  /** Thumbnails as data URLs by `thumbnailKey(task, id)` (see `reportThumbnails`). */
  thumbnails?: ReadonlyMap<string, string>;
};

/** Longest text of one field the browser carries; the whole text is in samples.jsonl. */
export const MAX_FIELD_CHARS = 20_000;
/** Images inlined per task by default: enough to browse, few enough to keep the file small. */
export const DEFAULT_IMAGES_PER_TASK = 24;
const THUMB_SIDE = 320;

export const thumbnailKey = (task: string, id: string): string => `${task}\u0000${id}`;

export type Verdict = "correct" | "wrong" | "partial" | "failed" | "judge";

/** The verdict class of a sample, as the browser filters it. */
export function verdictOf(s: Pick<SampleLine, "score" | "failed" | "needsJudge">): Verdict {
  if (s.failed) return "failed";
  if (s.needsJudge) return "judge";
  return s.score >= 1 ? "correct" : s.score <= 0 ? "wrong" : "partial";
}

const clip = (s: string): string =>
  s.length <= MAX_FIELD_CHARS
    ? s
    : `${s.slice(0, MAX_FIELD_CHARS)}… [${s.length - MAX_FIELD_CHARS} more characters in samples.jsonl]`;

const goldText = (gold: unknown): string => (typeof gold === "string" ? gold : (JSON.stringify(gold) ?? ""));

/** A number in a table: integers whole, others with up to 2 decimals. */
const num = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function headlineText(run: TaskRun): string {
  const { headline, unit, metric } = run.summary;
  return `${num(headline)}${unit === "%" ? "%" : unit ? ` ${unit}` : ""} (${metric})`;
}

/** The interval of the mean item score, as a percentage where the task is an accuracy. */
function intervalText(run: TaskRun): string {
  if (!run.interval) return "–";
  const show = run.summary.accuracy !== undefined ? pct : (x: number) => x.toFixed(3);
  return `[${show(run.interval.low)}, ${show(run.interval.high)}]`;
}

function taskTable(tasks: readonly ReportTask[]): string {
  const head = [
    "task",
    "headline",
    "accuracy",
    "n",
    "succeeded",
    "counts (≥ 95%)",
    "95% interval",
    "needs judge",
    "extract",
  ];
  const rows = tasks.map(({ run }) => {
    const cells = [
      run.task,
      headlineText(run),
      run.summary.accuracy !== undefined ? pct(run.summary.accuracy) : "–",
      String(run.n),
      `${run.succeeded} (${pct(run.successRate)})`,
      run.counts ? "yes" : "no",
      intervalText(run),
      String(run.needsJudge),
      run.extract,
    ];
    return `<tr class="${run.counts ? "" : "nocount"}">${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`;
  });
  return `<table class="tasks"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function breakdownTables(tasks: readonly ReportTask[]): string {
  return tasks
    .flatMap(({ run }) =>
      Object.entries(run.summary.breakdowns).map(([field, rows]) => {
        const body = Object.entries(rows)
          .map(
            ([value, r]) =>
              `<tr><td>${escapeHtml(value)}</td><td>${r.n}</td><td>${escapeHtml(num(r.score))}</td></tr>`,
          )
          .join("");
        return `<details><summary>${escapeHtml(`${run.task} by ${field}`)}</summary><table><thead><tr><th>${escapeHtml(field)}</th><th>n</th><th>score</th></tr></thead><tbody>${body}</tbody></table></details>`;
      }),
    )
    .join("");
}

function metaTable(meta: ReportMeta): string {
  const rows: [string, string][] = [
    ["model", meta.model ?? "(saved responses)"],
    ["glmv", meta.glmvVersion],
    ["started", meta.startedAt],
    ["finished", meta.finishedAt],
    ["settings", JSON.stringify(meta.settings)],
  ];
  return `<table class="meta">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>`;
}

/** The item browser's data: one compact record per item. */
function browserData(input: ReportInput): unknown {
  return {
    tasks: input.tasks.map((t) => t.run.task),
    items: input.tasks.flatMap(({ run, samples, items }) =>
      samples.map((s, i) => ({
        task: run.task,
        id: s.id,
        verdict: verdictOf(s),
        score: s.score,
        gold: clip(goldText(s.gold)),
        extracted: s.extracted,
        answer: clip(s.answer),
        thinking: clip(s.thinking),
        response: s.response === null ? null : clip(s.response),
        question: items?.[i] ? clip(items[i].prompt) : "",
        image: input.thumbnails?.get(thumbnailKey(run.task, s.id)) ?? null,
      })),
    ),
  };
}

/**
 * The whole report as one HTML string.
 * @example await writeFileAtomic("out/report.html", renderEvalReport({ meta, tasks: [{ run, samples }] }))
 */
export function renderEvalReport(input: ReportInput): string {
  const title = `glmv eval: ${input.meta.model ?? "saved responses"}`;
  return [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"/><title>${escapeHtml(title)}</title>`,
    `<style>${REPORT_STYLE}</style></head><body><h1>${escapeHtml(title)}</h1>`,
    metaTable(input.meta),
    "<h2>Tasks</h2>",
    taskTable(input.tasks),
    `<p class="note">The interval is a seeded bootstrap of the mean item score; a task whose requests succeeded below 95% does not count (paper §6).</p>`,
    breakdownTables(input.tasks),
    `<h2>Items</h2><div id="controls"></div><div id="items"><noscript>The item browser needs JavaScript; every item is in samples.jsonl.</noscript></div>`,
    `<script type="application/json" id="eval-data">${jsonForScript(browserData(input))}</script>`,
    `<script>${BROWSER_SCRIPT}</script></body></html>`,
  ].join("");
}

/** An image as a small JPEG data URL (longest side ≤ 320 px), or null when it cannot be read. */
async function thumbnail(image: EvalImage): Promise<string | null> {
  try {
    const input = "path" in image ? await readFile(image.path) : image.bytes;
    const jpeg = await sharp(input, { limitInputPixels: 1 << 26 })
      .resize(THUMB_SIDE, THUMB_SIDE, { fit: "inside", withoutEnlargement: true })
      .flatten({ background: "#ffffff" })
      .jpeg({ quality: 70 })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString("base64")}`;
  } catch {
    return null; // a missing or unreadable image only loses its thumbnail
  }
}

/**
 * Thumbnails of the first image of at most `perTask` items per task (wrong and failed items first: those are the
 * ones a reader opens), keyed by `thumbnailKey`.
 * @example renderEvalReport({ meta, tasks, thumbnails: await reportThumbnails(tasks) })
 */
export async function reportThumbnails(
  tasks: readonly ReportTask[],
  perTask = DEFAULT_IMAGES_PER_TASK,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const { run, samples, items } of tasks) {
    if (!items) continue;
    const order = samples
      .map((s, i) => ({ s, i, first: verdictOf(s) !== "correct" ? 0 : 1 }))
      .filter(({ i }) => (items[i]?.images.length ?? 0) > 0)
      .sort((a, b) => a.first - b.first || a.i - b.i)
      .slice(0, perTask);
    for (const { s, i } of order) {
      const url = await thumbnail(items[i]!.images[0]!);
      if (url) out.set(thumbnailKey(run.task, s.id), url);
    }
  }
  return out;
}
