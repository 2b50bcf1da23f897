/**
 * `report.html` of an RL run: one self-contained file (inline SVG charts, images as base64 PNG data URLs, no
 * scripts, fonts or stylesheets from elsewhere). Charts: training reward and accuracy, held-out accuracy, the
 * curriculum's difficulty histogram over time, the effective-batch share, and for a MoE policy the expert load
 * per MoE layer; then sample rollouts with their
 * image, thinking, answer and reward breakdown. `renderReport` is pure; `reportRollouts` encodes the images.
 */
import { encodePng } from "../data/tasks/png.ts";
import type { TaskItem } from "../data/tasks/types.ts";
import type { RolloutRecord, StepMetrics } from "./trainer.ts";

/** A sample rollout as the report shows it. */
export type ReportRollout = RolloutRecord & { question: string; answer: string; imagePng: string | null };

export type ReportInput = {
  title: string;
  /** Key figures shown as a table at the top (accuracies, signal share, throughput…). */
  summary: Record<string, unknown>;
  metrics: readonly StepMetrics[];
  /** Another run's metrics drawn beside this one's held-out curve (the `--compare` control). */
  control?: { name: string; metrics: readonly StepMetrics[] } | undefined;
  /** Held-out accuracy of the SFT checkpoint (a horizontal reference line). */
  sftAccuracy?: number | undefined;
  rollouts: readonly ReportRollout[];
};

type Series = { name: string; color: string; points: [number, number][] };

const W = 560;
const H = 220;
const PAD = { l: 44, r: 12, t: 26, b: 30 };

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

/** A line chart as an SVG string; `y` spans [yMin, yMax] (default: the data's range). */
export function lineChart(
  title: string,
  series: readonly Series[],
  opts: { yMin?: number; yMax?: number; hline?: { y: number; label: string } } = {},
): string {
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).concat(opts.hline ? [opts.hline.y] : []);
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, 1);
  const y0 = opts.yMin ?? Math.min(...ys, 0);
  const y1 = opts.yMax ?? Math.max(...ys, 1e-9);
  const sx = (x: number) => PAD.l + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.l - PAD.r);
  const sy = (y: number) => H - PAD.b - ((y - y0) / (y1 - y0 || 1)) * (H - PAD.t - PAD.b);
  const axes = [
    `<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" stroke="#888"/>`,
    `<line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}" stroke="#888"/>`,
    `<text x="${PAD.l - 4}" y="${sy(y1) + 4}" text-anchor="end">${fmt(y1)}</text>`,
    `<text x="${PAD.l - 4}" y="${sy(y0) + 4}" text-anchor="end">${fmt(y0)}</text>`,
    `<text x="${PAD.l}" y="${H - 10}">${fmt(x0)}</text>`,
    `<text x="${W - PAD.r}" y="${H - 10}" text-anchor="end">${fmt(x1)}</text>`,
  ];
  const lines = series.map((s) => {
    const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
    const dots =
      s.points.length <= 40
        ? s.points.map(
            ([x, y]) =>
              `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`,
          )
        : [];
    return `<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${pts}"/>${dots.join("")}`;
  });
  const hline = opts.hline
    ? `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${sy(opts.hline.y)}" y2="${sy(opts.hline.y)}" stroke="#999" stroke-dasharray="4 3"/><text x="${W - PAD.r}" y="${sy(opts.hline.y) - 4}" text-anchor="end" fill="#666">${escapeHtml(opts.hline.label)}</text>`
    : "";
  const legend = series
    .map((s, i) => `<text x="${PAD.l + 8 + i * 150}" y="16" fill="${s.color}">■ ${escapeHtml(s.name)}</text>`)
    .join("");
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-size="11" font-family="sans-serif">${axes.join("")}${hline}${lines.join("")}${legend}</svg></figure>`;
}

/** The difficulty histogram over time as a heat map: x = step, y = estimated pass-rate bin, darker = more prompts. */
export function histogramHeatmap(title: string, metrics: readonly StepMetrics[]): string {
  const rows = metrics.filter((m) => m.difficultyHistogram.length > 0);
  const bins = rows[0]?.difficultyHistogram.length ?? 10;
  const cw = (W - PAD.l - PAD.r) / Math.max(1, rows.length);
  const ch = (H - PAD.t - PAD.b) / bins;
  const cells = rows.flatMap((m, i) => {
    const total = m.difficultyHistogram.reduce((a, b) => a + b, 0) || 1;
    return m.difficultyHistogram.map((count, b) => {
      const shade = Math.round(255 - 215 * Math.sqrt(count / total));
      const y = H - PAD.b - (b + 1) * ch;
      return `<rect x="${(PAD.l + i * cw).toFixed(1)}" y="${y.toFixed(1)}" width="${(cw + 0.3).toFixed(1)}" height="${(ch + 0.3).toFixed(1)}" fill="rgb(${shade},${shade},255)"><title>step ${m.step}, pass rate ${b / bins}–${(b + 1) / bins}: ${count}</title></rect>`;
    });
  });
  const labels = [
    `<text x="${PAD.l - 4}" y="${PAD.t + 8}" text-anchor="end">p̂=1</text>`,
    `<text x="${PAD.l - 4}" y="${H - PAD.b}" text-anchor="end">p̂=0</text>`,
    `<text x="${PAD.l}" y="${H - 10}">step ${rows[0]?.step ?? 0}</text>`,
    `<text x="${W - PAD.r}" y="${H - 10}" text-anchor="end">step ${rows.at(-1)?.step ?? 0}</text>`,
  ];
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg class="chart heatmap" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-size="11" font-family="sans-serif">${cells.join("")}${labels.join("")}</svg></figure>`;
}

const LAYER_COLORS = ["#1f618d", "#b03a2e", "#117864", "#7d6608", "#6c3483", "#515a5a"];

/**
 * MoE runs: max/mean expert load per MoE layer and step (1 = even); none for a dense run.
 * @example expertLoadChart(metrics) // [] when no step carries expertLoad
 */
export function expertLoadChart(metrics: readonly StepMetrics[]): string[] {
  const layers = [...new Set(metrics.flatMap((m) => (m.expertLoad ?? []).map((s) => s.layer)))].sort(
    (a, b) => a - b,
  );
  if (layers.length === 0) return [];
  const series: Series[] = layers.map((layer, i) => ({
    name: `layer ${layer}`,
    color: LAYER_COLORS[i % LAYER_COLORS.length]!,
    points: metrics.flatMap((m) => {
      const s = m.expertLoad?.find((x) => x.layer === layer);
      return s ? [[m.step, s.maxOverMean] as [number, number]] : [];
    }),
  }));
  return [
    lineChart("Expert load per MoE layer: max/mean over the update's tokens (1 = even)", series, { yMin: 1 }),
  ];
}

const heldoutPoints = (metrics: readonly StepMetrics[], x: "step" | "rolloutsTotal"): [number, number][] =>
  metrics.flatMap((m) => (m.heldout ? [[m[x], m.heldout.accuracy] as [number, number]] : []));

function rolloutCard(r: ReportRollout): string {
  const think = /<think>([\s\S]*?)<\/think>/.exec(r.text)?.[1] ?? "";
  const after = r.text.replace(/<think>[\s\S]*?<\/think>/, "");
  const img = r.imagePng
    ? `<img alt="task image" width="112" height="112" style="image-rendering:pixelated" src="data:image/png;base64,${r.imagePng}"/>`
    : "";
  const res = r.result;
  const breakdown = [
    `reward ${res.reward.toFixed(2)}`,
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
  const hline =
    input.sftAccuracy === undefined ? {} : { hline: { y: input.sftAccuracy, label: "after SFT" } };
  const rows = Object.entries(input.summary)
    .map(
      ([k, v]) =>
        `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(typeof v === "number" ? fmt(v) : JSON.stringify(v))}</td></tr>`,
    )
    .join("");
  const charts = [
    lineChart(
      "Training reward and accuracy per step (all sampled rollouts)",
      [curve("reward", "#1e8449", (s) => s.reward), curve("accuracy", "#7d3c98", (s) => s.accuracy)],
      { yMin: 0, yMax: 1 },
    ),
    lineChart("Held-out accuracy by step", heldout, { yMin: 0, yMax: 1, ...hline }),
    lineChart("Held-out accuracy by rollouts generated", byRollouts, { yMin: 0, yMax: 1, ...hline }),
    histogramHeatmap("Difficulty histogram over time (estimated pass rate of every training prompt)", m),
    lineChart(
      "Effective batch: share of the trained batch with signal, share of sampled groups with signal",
      [
        curve("signalShare", "#117a65", (s) => s.signalShare),
        curve("sampledSignalRate", "#b9770e", (s) => s.sampledSignalRate),
      ],
      { yMin: 0, yMax: 1 },
    ),
    lineChart("Ratio-EMA oversampling factor", [curve("ratioEma", "#566573", (s) => s.ratioEma)], {
      yMin: 1,
    }),
    ...expertLoadChart(m),
  ];
  const style =
    "body{font-family:sans-serif;max-width:1200px;margin:1em auto;color:#222}figure{display:inline-block;margin:.5em}figcaption{font-size:13px}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:13px}.rollout{display:flex;gap:10px;margin:6px 0;padding:6px;border-left:4px solid #ccc;font-size:13px}.rollout.ok{border-color:#1e8449}.rollout.bad{border-color:#c0392b}";
  return `<!doctype html><html><head><meta charset="utf-8"/><title>${escapeHtml(input.title)}</title><style>${style}</style></head><body><h1>${escapeHtml(input.title)}</h1><table>${rows}</table><h2>Curves</h2>${charts.join("")}<h2>Sample rollouts</h2>${input.rollouts.map(rolloutCard).join("")}</body></html>`;
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
