/**
 * `report.html` of an RL run: one self-contained file (inline SVG charts, images as base64 PNG data URLs, no
 * scripts, fonts or stylesheets from elsewhere). A labelled summary table; charts (titled axes, legends): training
 * reward and accuracy, held-out accuracy by step and by rollouts against the SFT checkpoint and the continued-SFT
 * control, the curriculum's difficulty heat map with its colour scale, the effective-batch share, and for a MoE
 * policy the expert load per MoE layer; then sample rollouts with their image, thinking, answer and reward
 * breakdown. `renderReport` is pure; `reportRollouts` encodes the images.
 */
import { encodePng } from "../../data/tasks/png.ts";
import type { TaskItem } from "../../data/tasks/types.ts";
import type { RolloutRecord, StepMetrics } from "../loop/trainer.ts";
import {
  expertLoadChart,
  histogramHeatmap,
  lineChart,
  type ReferenceLine,
  type Series,
} from "./report-charts.ts";
import { escapeHtml, formatNumber, formatShare } from "./report-format.ts";
import { summaryTables } from "./report-summary.ts";

export { expertLoadChart, histogramHeatmap, lineChart } from "./report-charts.ts";
export { escapeHtml } from "./report-format.ts";

/** A sample rollout as the report shows it. */
export type ReportRollout = RolloutRecord & { question: string; answer: string; imagePng: string | null };

/** The continued-SFT control: evaluated once, at its end (after as much wall time as RL took). */
export type ContinuedSftResult = { accuracy: number; sampledAccuracy?: number | null | undefined };

export type ReportInput = {
  title: string;
  /** `summary.json` (and `compare`): shown as labelled tables at the top. */
  summary: Record<string, unknown>;
  metrics: readonly StepMetrics[];
  /** Another run's metrics drawn beside this one's held-out curve (the `--compare` control). */
  control?: { name: string; metrics: readonly StepMetrics[] } | undefined;
  /** Held-out accuracy of the SFT checkpoint (a horizontal reference line). */
  sftAccuracy?: number | undefined;
  /** The continued-SFT control's accuracy; absent: read from the summary's `control.accuracy`. */
  continuedSft?: ContinuedSftResult | undefined;
  rollouts: readonly ReportRollout[];
};

const heldoutPoints = (metrics: readonly StepMetrics[], x: "step" | "rolloutsTotal"): [number, number][] =>
  metrics.flatMap((m) => (m.heldout ? [[m[x], m.heldout.accuracy] as [number, number]] : []));

/** The control's figures from the input, else from the summary's `control` (null there when it was off). */
function continuedSftOf(input: ReportInput): ContinuedSftResult | undefined {
  if (input.continuedSft) return input.continuedSft;
  const control = input.summary.control;
  if (typeof control !== "object" || control === null) return undefined;
  const { accuracy, sampledAccuracy: sampled } = control as Record<string, unknown>;
  return typeof accuracy === "number"
    ? { accuracy, sampledAccuracy: typeof sampled === "number" ? sampled : null }
    : undefined;
}

/**
 * Reference lines of the held-out charts: the SFT checkpoint RL starts from, and the continued-SFT control (one
 * evaluation, after RL's wall time: a line across, marked at the right end where RL's own run ends).
 */
function heldoutReferences(input: ReportInput, sampled: boolean): ReferenceLine[] {
  const refs: ReferenceLine[] = [];
  if (input.sftAccuracy !== undefined)
    refs.push({
      y: input.sftAccuracy,
      label: `after SFT (RL's start): ${formatShare(input.sftAccuracy)}`,
      color: "#7f8c8d",
      dash: "3 3",
      tooltip: `held-out accuracy after SFT: ${formatShare(input.sftAccuracy)}`,
    });
  const control = continuedSftOf(input);
  if (control) {
    const tip = `continued SFT (control), same wall time as RL: ${formatShare(control.accuracy)}`;
    refs.push({
      y: control.accuracy,
      label: tip,
      color: "#d35400",
      dash: "9 4",
      tooltip: tip,
      marker: "diamond",
    });
    if (sampled && typeof control.sampledAccuracy === "number") {
      const tipSampled = `continued SFT (control), sampled: ${formatShare(control.sampledAccuracy)}`;
      refs.push({
        y: control.sampledAccuracy,
        label: tipSampled,
        color: "#e59866",
        dash: "2 3",
        tooltip: tipSampled,
        marker: "triangle",
      });
    }
  }
  return refs;
}

function rolloutCard(r: ReportRollout): string {
  const think = /<think>([\s\S]*?)<\/think>/.exec(r.text)?.[1] ?? "";
  const after = r.text.replace(/<think>[\s\S]*?<\/think>/, "");
  const img = r.imagePng
    ? `<img alt="task image" width="112" height="112" style="image-rendering:pixelated" src="data:image/png;base64,${r.imagePng}"/>`
    : "";
  const res = r.result;
  const breakdown = [
    `reward ${formatNumber(res.reward)}`,
    res.correct ? "correct" : "wrong",
    `format ${res.format}`,
    `stage ${res.stage}`,
    `extracted ${res.extracted ?? "∅"}`,
    res.timedOut ? "timed out" : "",
    res.reason ? `reason: ${res.reason}` : "",
  ].filter(Boolean);
  return `<div class="rollout ${res.correct ? "ok" : "bad"}">${img}<div><b>${escapeHtml(r.promptId)}</b> (step ${r.step}, ${escapeHtml(r.family)} L${r.level})<br/>Q: ${escapeHtml(r.question)} — gold: ${escapeHtml(r.answer)}<br/>thinking: <code>${escapeHtml(think)}</code><br/>answer: <code>${escapeHtml(after)}</code><br/><small>${escapeHtml(breakdown.join(" · "))}</small></div></div>`;
}

/**
 * The whole report as one HTML string.
 * @example writeFileAtomic(join(dir, "report.html"), renderReport({ title: "glmv rl", summary, metrics, rollouts: [] }))
 */
export function renderReport(input: ReportInput): string {
  const m = input.metrics;
  const curve = (name: string, color: string, pick: (s: StepMetrics) => number): Series => ({
    name,
    color,
    points: m.map((s) => [s.step, pick(s)]),
  });
  const heldout: Series[] = [
    { name: "held-out accuracy (greedy)", color: "#c0392b", points: heldoutPoints(m, "step") },
  ];
  const sampled = m.flatMap((s) =>
    s.heldout?.sampledAccuracy !== undefined ? [[s.step, s.heldout.sampledAccuracy] as [number, number]] : [],
  );
  if (sampled.length > 0)
    heldout.push({ name: "held-out, sampled at the rollout temperature", color: "#7d3c98", points: sampled });
  const byRollouts: Series[] = [
    { name: input.title, color: "#c0392b", points: heldoutPoints(m, "rolloutsTotal") },
  ];
  if (input.control)
    byRollouts.push({
      name: input.control.name,
      color: "#2471a3",
      points: heldoutPoints(input.control.metrics, "rolloutsTotal"),
    });
  const accuracyAxis = { yTitle: "held-out accuracy", yMin: 0, yMax: 1, yPercent: true };
  const charts = [
    // accuracy first and wide, reward dashed on top: with 0/1 rewards the two curves coincide
    lineChart(
      "Training reward and accuracy per step (all sampled rollouts)",
      [
        curve("accuracy (share correct)", "#7d3c98", (s) => s.accuracy),
        curve("reward (mean)", "#1e8449", (s) => s.reward),
      ],
      {
        xTitle: "training step",
        yTitle: "mean reward, share correct",
        yMin: Math.min(0, ...m.map((s) => s.reward)),
        yMax: 1,
      },
    ),
    lineChart("Held-out accuracy by step", heldout, {
      xTitle: "training step",
      ...accuracyAxis,
      references: heldoutReferences(input, sampled.length > 0),
    }),
    lineChart("Held-out accuracy by rollouts generated", byRollouts, {
      xTitle: "rollouts generated (cumulative)",
      ...accuracyAxis,
      references: heldoutReferences(input, false),
    }),
    histogramHeatmap("Difficulty histogram over time (estimated pass rate of every training prompt)", m),
    lineChart(
      "Effective batch: share of the trained batch with signal, share of sampled groups with signal",
      [
        curve("trained batch with signal", "#117a65", (s) => s.signalShare),
        curve("sampled groups with signal", "#b9770e", (s) => s.sampledSignalRate),
      ],
      { xTitle: "training step", yTitle: "share with signal", yMin: 0, yMax: 1, yPercent: true },
    ),
    lineChart("Ratio-EMA oversampling factor", [curve("ratio EMA", "#566573", (s) => s.ratioEma)], {
      xTitle: "training step",
      yTitle: "oversampling factor (×)",
      yMin: 1,
    }),
    ...expertLoadChart(m),
  ];
  const style =
    "body{font-family:sans-serif;max-width:1200px;margin:1em auto;color:#222}figure{display:inline-block;margin:.5em}figcaption{font-size:13px}table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:13px}td{font-variant-numeric:tabular-nums}tr.group th{background:#f2f3f4}table.nested th,table.nested td{border-color:#e5e5e5}h3{font-size:15px;margin:.8em 0 .2em}ul.warnings{background:#fdf2e9;border-left:4px solid #d35400;padding:.4em 1.6em;font-size:14px}.rollout{display:flex;gap:10px;margin:6px 0;padding:6px;border-left:4px solid #ccc;font-size:13px}.rollout.ok{border-color:#1e8449}.rollout.bad{border-color:#c0392b}";
  return `<!doctype html><html><head><meta charset="utf-8"/><title>${escapeHtml(input.title)}</title><style>${style}</style></head><body><h1>${escapeHtml(input.title)}</h1>${summaryTables(input.summary)}<h2>Curves</h2>${charts.join("")}<h2>Sample rollouts</h2>${input.rollouts.map(rolloutCard).join("")}</body></html>`;
}

/**
 * Pick up to `k` rollouts for the report (spread over the run, right and wrong alternating) and attach their
 * item's question, gold answer and image as base64 PNG.
 */
export async function reportRollouts(
  rollouts: readonly RolloutRecord[],
  items: ReadonlyMap<string, TaskItem>,
  k = 12,
): Promise<ReportRollout[]> {
  const right = rollouts.filter((r) => r.result.correct);
  const wrong = rollouts.filter((r) => !r.result.correct);
  const spread = <T>(xs: readonly T[], n: number): T[] =>
    xs.length <= n ? xs.slice() : Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]!);
  const picked = [...spread(right, Math.ceil(k / 2)), ...spread(wrong, Math.floor(k / 2))];
  return Promise.all(
    picked.map(async (r) => {
      const item = items.get(r.promptId);
      const imagePng = item ? Buffer.from(await encodePng(item.image)).toString("base64") : null;
      return { ...r, question: item?.question ?? "", answer: item?.answer ?? "", imagePng };
    }),
  );
}
