/**
 * Inline SVG charts of `report.html`: line charts with titled axes, ticks, a legend that tells series apart by
 * colour, dash pattern and marker, and horizontal reference lines; the difficulty heat map with its colour scale.
 * Pure string builders, no scripts or external assets.
 */

import type { StepMetrics } from "../loop/trainer.ts";
import { escapeHtml, formatNumber } from "./report-format.ts";

export type Marker = "circle" | "square" | "triangle" | "diamond";

/** One curve. Unset `dash`/`marker`/`width` take the style of the series' position (see SERIES_STYLES). */
export type Series = {
  name: string;
  color: string;
  points: [number, number][];
  dash?: string | undefined;
  marker?: Marker | undefined;
  width?: number | undefined;
};

/** A horizontal line across the plot (a checkpoint's accuracy), optionally marked at the right end. */
export type ReferenceLine = {
  y: number;
  label: string;
  color: string;
  dash: string;
  /** Shown on hover (an SVG `<title>`). */
  tooltip?: string | undefined;
  marker?: Marker | undefined;
};

export type ChartOptions = {
  xTitle: string;
  yTitle: string;
  yMin?: number | undefined;
  yMax?: number | undefined;
  /** Tick labels as percentages (for shares in [0, 1]). */
  yPercent?: boolean | undefined;
  references?: readonly ReferenceLine[] | undefined;
};

/**
 * Series drawn later sit on top; the first is wide and solid and the rest thinner with their own dashes and
 * markers, so a curve that coincides with an earlier one still shows over it.
 */
const SERIES_STYLES: { dash: string; marker: Marker; width: number }[] = [
  { dash: "", marker: "circle", width: 3 },
  { dash: "6 3", marker: "square", width: 1.6 },
  { dash: "2 2", marker: "triangle", width: 1.6 },
  { dash: "8 3 2 3", marker: "diamond", width: 1.6 },
];

const W = 560;
const H = 250;
const FONT = 'font-size="11" font-family="sans-serif"';
const LEGEND_ROW = 15;

/**
 * About `target` round tick values in [lo, hi] (steps of 1, 2, 2.5 or 5 × 10^k; whole steps for integer axes).
 * @example niceTicks(0, 1) // [0, 0.2, 0.4, 0.6, 0.8, 1]
 */
export function niceTicks(lo: number, hi: number, target = 5, integer = false): number[] {
  const raw = (hi - lo || 1) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const steps = (integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]).map((m) => m * mag);
  const step = integer ? Math.max(1, steps.find((s) => s >= raw)!) : steps.find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++)
    ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

function markerSvg(marker: Marker, x: number, y: number, color: string, cls: string): string {
  const c = `${cls ? `class="${cls}" ` : ""}fill="${color}"`;
  const f = (v: number) => v.toFixed(1);
  if (marker === "circle") return `<circle ${c} cx="${f(x)}" cy="${f(y)}" r="2.8"/>`;
  if (marker === "square") return `<rect ${c} x="${f(x - 2.6)}" y="${f(y - 2.6)}" width="5.2" height="5.2"/>`;
  const d =
    marker === "diamond"
      ? `M${f(x)} ${f(y - 4)}L${f(x + 4)} ${f(y)}L${f(x)} ${f(y + 4)}L${f(x - 4)} ${f(y)}Z`
      : `M${f(x)} ${f(y - 3.6)}L${f(x + 3.4)} ${f(y + 2.6)}L${f(x - 3.4)} ${f(y + 2.6)}Z`;
  return `<path ${c} d="${d}"/>`;
}

type LegendEntry = { name: string; color: string; dash: string; width: number; marker?: Marker | undefined };

/** Legend entries laid out in rows across the top; returns the SVG and how tall it is. */
function legendSvg(entries: readonly LegendEntry[], left: number): { svg: string; height: number } {
  let x = left;
  let row = 0;
  const parts = entries.map((e) => {
    const width = 34 + 6.2 * e.name.length;
    if (x > left && x + width > W - 8) {
      x = left;
      row++;
    }
    const y = 12 + row * LEGEND_ROW;
    const dash = e.dash ? ` stroke-dasharray="${e.dash}"` : "";
    const svg = `<line x1="${x}" x2="${x + 22}" y1="${y - 4}" y2="${y - 4}" stroke="${e.color}" stroke-width="${e.width}"${dash}/>${e.marker ? markerSvg(e.marker, x + 11, y - 4, e.color, "") : ""}<text x="${x + 26}" y="${y}">${escapeHtml(e.name)}</text>`;
    x += width;
    return svg;
  });
  return {
    svg: `<g class="legend">${parts.join("")}</g>`,
    height: entries.length ? (row + 1) * LEGEND_ROW : 0,
  };
}

/** Titles under the x axis and along the y axis. */
function axisTitles(xTitle: string, yTitle: string, plot: { l: number; r: number; t: number; b: number }) {
  const midX = (plot.l + plot.r) / 2;
  const midY = (plot.t + plot.b) / 2;
  return `<text class="axis-title x" x="${midX}" y="${H - 6}" text-anchor="middle">${escapeHtml(xTitle)}</text><text class="axis-title y" transform="rotate(-90)" x="${-midY}" y="13" text-anchor="middle">${escapeHtml(yTitle)}</text>`;
}

const figureHtml = (title: string, cls: string, body: string) =>
  `<figure><figcaption>${escapeHtml(title)}</figcaption><svg class="${cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ${FONT}>${body}</svg></figure>`;

/**
 * A line chart as an SVG figure; `y` spans [yMin, yMax] (default: the data's range).
 * @example lineChart("Loss", [{ name: "loss", color: "#333", points: [[1, 0.5]] }], { xTitle: "step", yTitle: "loss" })
 */
export function lineChart(title: string, series: readonly Series[], opts: ChartOptions): string {
  const refs = opts.references ?? [];
  const styled = series.map((s, i) => {
    const base = SERIES_STYLES[i % SERIES_STYLES.length]!;
    return { ...s, dash: s.dash ?? base.dash, marker: s.marker ?? base.marker, width: s.width ?? base.width };
  });
  const legend = legendSvg(
    [
      ...styled,
      ...refs.map((r) => ({ name: r.label, color: r.color, dash: r.dash, width: 1.2, marker: r.marker })),
    ],
    58,
  );
  const plot = { l: 58, r: W - 14, t: legend.height + 14, b: H - 44 };
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).concat(refs.map((r) => r.y));
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, 1);
  const y0 = opts.yMin ?? Math.min(...ys, 0);
  const yTop = opts.yMax ?? Math.max(...ys);
  const y1 = yTop > y0 ? yTop : y0 + 1; // no data, or a flat series at yMin: a unit range, not a sliver
  const sx = (x: number) => plot.l + ((x - x0) / (x1 - x0 || 1)) * (plot.r - plot.l);
  const sy = (y: number) => plot.b - ((y - y0) / (y1 - y0 || 1)) * (plot.b - plot.t);
  const yLabel = (y: number) => (opts.yPercent ? `${formatNumber(100 * y)}%` : formatNumber(y));
  const yTicks = niceTicks(y0, y1).map((y) => {
    const py = sy(y).toFixed(1);
    return `<line x1="${plot.l}" x2="${plot.r}" y1="${py}" y2="${py}" stroke="#eee"/><text x="${plot.l - 4}" y="${Number(py) + 4}" text-anchor="end">${yLabel(y)}</text>`;
  });
  const xTicks = niceTicks(x0, x1, 6, xs.every(Number.isInteger)).map(
    (x) =>
      `<line x1="${sx(x).toFixed(1)}" x2="${sx(x).toFixed(1)}" y1="${plot.b}" y2="${plot.b + 4}" stroke="#888"/><text x="${sx(x).toFixed(1)}" y="${plot.b + 15}" text-anchor="middle">${formatNumber(x)}</text>`,
  );
  const axes = `<line x1="${plot.l}" y1="${plot.b}" x2="${plot.r}" y2="${plot.b}" stroke="#888"/><line x1="${plot.l}" y1="${plot.t}" x2="${plot.l}" y2="${plot.b}" stroke="#888"/>`;
  const refLines = refs.map((r) => {
    const y = sy(r.y).toFixed(1);
    const tip = r.tooltip ? `<title>${escapeHtml(r.tooltip)}</title>` : "";
    const mark = r.marker ? markerSvg(r.marker, plot.r, Number(y), r.color, "ref-pt") : "";
    return `<g class="reference">${tip}<line x1="${plot.l}" x2="${plot.r}" y1="${y}" y2="${y}" stroke="${r.color}" stroke-width="1.2" stroke-dasharray="${r.dash}"/>${mark}</g>`;
  });
  const lines = styled.map((s) => {
    const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
    const every = Math.max(1, Math.ceil(s.points.length / 40)); // markers stay readable on long runs
    const marks = s.points
      .filter((_, i) => i % every === 0)
      .map(([x, y]) => markerSvg(s.marker, sx(x), sy(y), s.color, "pt"));
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
    return `<g class="series"><title>${escapeHtml(s.name)}</title><polyline fill="none" stroke="${s.color}" stroke-width="${s.width}"${dash} points="${pts}"/>${marks.join("")}</g>`;
  });
  const body = `${yTicks.join("")}${axes}${xTicks.join("")}${refLines.join("")}${lines.join("")}${legend.svg}${axisTitles(opts.xTitle, opts.yTitle, plot)}`;
  return figureHtml(title, "chart", body);
}

/** Heat-map colour of t in [0, 1] (√ so that sparse bins still show): near-white → deep blue. */
const heatColor = (t: number): string => {
  const v = Math.round(245 - 205 * Math.sqrt(Math.min(1, Math.max(0, t))));
  return `rgb(${v},${v},255)`;
};

/**
 * The difficulty histogram over time as a heat map: x = step, y = estimated pass-rate bin, darker = more
 * prompts, with a colour scale from the fewest to the most prompts any bin held.
 * @example histogramHeatmap("Difficulty", metrics) // <figure> with <g class="color-scale">
 */
export function histogramHeatmap(title: string, metrics: readonly StepMetrics[]): string {
  const rows = metrics.filter((m) => m.difficultyHistogram.length > 0);
  const bins = rows[0]?.difficultyHistogram.length ?? 10;
  const plot = { l: 58, r: W - 92, t: 14, b: H - 44 };
  const counts = rows.flatMap((m) => m.difficultyHistogram);
  const lo = counts.length ? Math.min(...counts) : 0;
  const hi = counts.length ? Math.max(...counts) : 0;
  const shade = (count: number) => heatColor(hi > lo ? (count - lo) / (hi - lo) : 1);
  const cw = (plot.r - plot.l) / Math.max(1, rows.length);
  const ch = (plot.b - plot.t) / bins;
  const cells = rows.flatMap((m, i) =>
    m.difficultyHistogram.map((count, b) => {
      const y = plot.b - (b + 1) * ch;
      return `<rect x="${(plot.l + i * cw).toFixed(1)}" y="${y.toFixed(1)}" width="${(cw + 0.3).toFixed(1)}" height="${(ch + 0.3).toFixed(1)}" fill="${shade(count)}"><title>step ${m.step}, pass rate ${formatNumber(b / bins)}–${formatNumber((b + 1) / bins)}: ${count} prompts</title></rect>`;
    }),
  );
  const yTicks = niceTicks(0, 1).map((p) => {
    const y = plot.b - p * (plot.b - plot.t);
    return `<text x="${plot.l - 4}" y="${(y + 4).toFixed(1)}" text-anchor="end">${formatNumber(p)}</text>`;
  });
  const every = Math.max(1, Math.ceil(rows.length / 8));
  const xTicks = rows.flatMap((m, i) =>
    (i % every === 0 && rows.length - 1 - i >= every / 2) || i === rows.length - 1 // the last, never crowded
      ? [
          `<text x="${(plot.l + (i + 0.5) * cw).toFixed(1)}" y="${plot.b + 15}" text-anchor="middle">${m.step}</text>`,
        ]
      : [],
  );
  const body = `${cells.join("")}${yTicks.join("")}${xTicks.join("")}${rows.length ? colorScale(lo, hi, shade, plot) : ""}${axisTitles("training step", "estimated pass rate p̂ (bin)", plot)}`;
  return figureHtml(title, "chart heatmap", body);
}

/** A vertical colour bar right of the heat map, labelled with the lowest and highest count. */
function colorScale(lo: number, hi: number, shade: (c: number) => string, plot: { t: number; b: number }) {
  const n = 12;
  const x = W - 72;
  const h = (plot.b - plot.t) / n;
  const swatches = Array.from({ length: n }, (_, i) => {
    const y = plot.b - (i + 1) * h;
    return `<rect x="${x}" y="${y.toFixed(1)}" width="14" height="${(h + 0.3).toFixed(1)}" fill="${shade(lo + ((hi - lo) * i) / (n - 1))}"/>`;
  });
  const labels = `<text x="${x + 18}" y="${plot.t + 9}">${formatNumber(hi)}</text><text x="${x + 18}" y="${plot.b}">${formatNumber(lo)}</text>`;
  const midY = (plot.t + plot.b) / 2;
  const title = `<text transform="rotate(-90)" x="${-midY}" y="${W - 10}" text-anchor="middle">prompts in the bin (√ scale)</text>`;
  const frame = `<rect x="${x - 0.5}" y="${plot.t - 0.5}" width="15" height="${plot.b - plot.t + 1}" fill="none" stroke="#888"/>`;
  return `<g class="color-scale">${swatches.join("")}${frame}${labels}${title}</g>`;
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
    lineChart("Expert load per MoE layer: max/mean over the update's tokens (1 = even)", series, {
      xTitle: "training step",
      yTitle: "max / mean expert load",
      yMin: 1,
    }),
  ];
}
