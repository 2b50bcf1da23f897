/**
 * Two evaluation output folders side by side: per task the headline of each and its change, a paired bootstrap
 * interval of the change in mean item score over the items both runs scored (matched by the benchmark's own id),
 * and the items that flipped (score up or down; for accuracy tasks, wrong ↔ right).
 */
import { join } from "node:path";
import { GlmvError } from "../util/errors.ts";
import { type Interval, pairedBootstrapDifference } from "./bootstrap.ts";
import { type Results, readResults, readSamples, SAMPLES_FILE, type TaskResult } from "./results.ts";
import type { SampleLine } from "./score-run.ts";

/** An output folder, read and checked. */
export type LoadedRun = { dir: string; results: Results; samples: SampleLine[] };

type Side = { headline: number; accuracy?: number; n: number; counts: boolean };

export type TaskComparison = {
  task: string;
  metric: string;
  unit: string;
  a: Side;
  b: Side;
  /** B's headline minus A's, in the headline's unit. */
  headlineDelta: number;
  /** Items scored in both runs. */
  shared: number;
  /** Mean of (B − A) item scores over the shared items (null when none), and its paired bootstrap interval. */
  itemDelta: number | null;
  interval: Interval | null;
  /** Shared items whose score rose (`better`) or fell (`worse`) from A to B, in A's order. */
  better: string[];
  worse: string[];
};

export type Comparison = {
  a: { dir: string; model: string | null };
  b: { dir: string; model: string | null };
  tasks: TaskComparison[];
  /** Tasks only one of the runs has. */
  onlyA: string[];
  onlyB: string[];
};

/**
 * Read an output folder (results.json and samples.jsonl).
 * @example const a = await loadRun("runs/base");
 */
export async function loadRun(dir: string): Promise<LoadedRun> {
  return { dir, results: await readResults(dir), samples: await readSamples(dir) };
}

/** A task's item scores by id; an id twice in one task is an error naming the file. */
function scoresById(run: LoadedRun, task: string): Map<string, number> {
  const byId = new Map<string, number>();
  for (const s of run.samples) {
    if (s.task !== task) continue;
    if (byId.has(s.id)) {
      throw new GlmvError("bad_input", `item '${s.id}' of task '${task}' appears twice`, {
        where: join(run.dir, SAMPLES_FILE),
      });
    }
    byId.set(s.id, s.score);
  }
  return byId;
}

const side = (r: TaskResult): Side => ({
  headline: r.headline,
  ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}),
  n: r.n,
  counts: r.counts,
});

/**
 * Compare run B against run A task by task (deltas are B − A).
 * @example const c = compareRuns(await loadRun("runs/base"), await loadRun("runs/rl")); c.tasks[0].interval
 */
export function compareRuns(a: LoadedRun, b: LoadedRun, opts: { seed?: number } = {}): Comparison {
  const tasksA = Object.keys(a.results.tasks);
  const tasksB = new Set(Object.keys(b.results.tasks));
  const tasks = tasksA
    .filter((t) => tasksB.has(t))
    .map((task): TaskComparison => {
      const ra = a.results.tasks[task]!;
      const rb = b.results.tasks[task]!;
      const scoresA = scoresById(a, task);
      const scoresB = scoresById(b, task);
      const ids = [...scoresA.keys()].filter((id) => scoresB.has(id));
      const xs = ids.map((id) => scoresA.get(id)!);
      const ys = ids.map((id) => scoresB.get(id)!);
      const paired = pairedBootstrapDifference(xs, ys, { seed: opts.seed ?? 0 });
      return {
        task,
        metric: ra.metric,
        unit: ra.unit,
        a: side(ra),
        b: side(rb),
        headlineDelta: rb.headline - ra.headline,
        shared: ids.length,
        itemDelta: ids.length ? paired.delta : null,
        interval: paired.interval,
        better: ids.filter((_, i) => ys[i]! > xs[i]!),
        worse: ids.filter((_, i) => ys[i]! < xs[i]!),
      };
    });
  return {
    a: { dir: a.dir, model: a.results.model },
    b: { dir: b.dir, model: b.results.model },
    tasks,
    onlyA: tasksA.filter((t) => !tasksB.has(t)),
    onlyB: [...tasksB].filter((t) => !(t in a.results.tasks)),
  };
}

const signed = (x: number, digits: number): string => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(digits)}`;
const headlineOf = (s: Side, unit: string): string =>
  `${Number.isInteger(s.headline) ? s.headline : s.headline.toFixed(2)}${unit === "%" ? "%" : unit ? ` ${unit}` : ""}${s.counts ? "" : "*"}`;
const LISTED = 10;

/**
 * The comparison as an aligned text table, then the flipped items of each task (the first 10 ids of each kind).
 * @example console.log(formatComparison(compareRuns(a, b)))
 */
export function formatComparison(c: Comparison): string {
  const header = ["task", "A", "B", "Δ headline", "shared", "Δ mean item score [95% CI]", "better", "worse"];
  const rows = c.tasks.map((t) => [
    t.task,
    headlineOf(t.a, t.unit),
    headlineOf(t.b, t.unit),
    `${signed(t.headlineDelta, 2)}${t.unit === "%" ? " pts" : t.unit ? ` ${t.unit}` : ""}`,
    String(t.shared),
    t.itemDelta === null || !t.interval
      ? "–"
      : `${signed(t.itemDelta, 3)} [${signed(t.interval.low, 3)}, ${signed(t.interval.high, 3)}]`,
    String(t.better.length),
    String(t.worse.length),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const out = [
    `A: ${c.a.dir} (${c.a.model ?? "saved responses"})`,
    `B: ${c.b.dir} (${c.b.model ?? "saved responses"})`,
    "",
    line(header),
    ...rows.map(line),
  ];
  if (c.tasks.some((t) => !t.a.counts || !t.b.counts))
    out.push("* fewer than 95% of the requests succeeded: the score does not count (paper §6)");
  for (const t of c.tasks) {
    for (const [kind, ids] of [
      ["better", t.better],
      ["worse", t.worse],
    ] as const) {
      if (ids.length === 0) continue;
      const more = ids.length > LISTED ? `, … (${ids.length - LISTED} more; --json lists all)` : "";
      out.push(`${t.task} ${kind} in B: ${ids.slice(0, LISTED).join(", ")}${more}`);
    }
  }
  if (c.onlyA.length) out.push(`only in A: ${c.onlyA.join(", ")}`);
  if (c.onlyB.length) out.push(`only in B: ${c.onlyB.join(", ")}`);
  return out.join("\n");
}
