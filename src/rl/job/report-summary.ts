/**
 * The summary tables at the top of `report.html`: each `summary.json` figure under a label in words (with its unit),
 * per-family and per-level accuracies as one table with a column per checkpoint, the `--compare` result as its own
 * table, the run's warnings as a list above them, and anything else nested as a sub-table, never as JSON.
 */
import { escapeHtml, formatNumber, formatShare, humanizeKey } from "./report-format.ts";

type Kind = "share" | "count" | "seconds" | "number" | "text";
type Group = "Held-out accuracy" | "Training" | "Time and throughput" | "Curriculum";
/** How one figure reads: its label (unit included), how to print it, and what a null means. */
type Label = { label: string; kind: Kind; group?: Group; whenNull?: string; note?: string };

const CONTROL_OFF = "— (control off)";
const NOT_MEASURED = "— (not measured)";

/** The figures of `summary.json` (main-job.ts `Summary`), in the order the table lists them. */
export const SUMMARY_LABELS: Record<string, Label> = {
  sftAccuracy: { label: "Held-out accuracy after SFT", kind: "share", group: "Held-out accuracy" },
  rlAccuracy: { label: "Held-out accuracy after RL", kind: "share", group: "Held-out accuracy" },
  continuedSftAccuracy: {
    label: "Held-out accuracy after continued SFT (control, same wall time as RL)",
    kind: "share",
    group: "Held-out accuracy",
    whenNull: CONTROL_OFF,
  },
  sftSampledAccuracy: {
    label: "Held-out accuracy after SFT, sampled at the rollout temperature",
    kind: "share",
    group: "Held-out accuracy",
    whenNull: NOT_MEASURED,
  },
  rlSampledAccuracy: {
    label: "Held-out accuracy after RL, sampled at the rollout temperature",
    kind: "share",
    group: "Held-out accuracy",
    whenNull: NOT_MEASURED,
  },
  continuedSftSampledAccuracy: {
    label: "Held-out accuracy after continued SFT, sampled at the rollout temperature",
    kind: "share",
    group: "Held-out accuracy",
    whenNull: NOT_MEASURED,
  },
  heldoutItems: { label: "Held-out items", kind: "count", group: "Held-out accuracy" },
  sampler: { label: "Prompt sampler", kind: "text", group: "Training" },
  rlSteps: { label: "RL steps", kind: "count", group: "Training" },
  rolloutsTotal: { label: "Rollouts generated", kind: "count", group: "Training" },
  continuedSftSteps: {
    label: "Continued-SFT steps (control)",
    kind: "count",
    group: "Training",
    whenNull: CONTROL_OFF,
  },
  signalShare: {
    label: "Share of the trained batch with signal (mean over steps)",
    kind: "share",
    group: "Training",
  },
  sampledSignalRate: {
    label: "Share of sampled groups with signal (mean over steps)",
    kind: "share",
    group: "Training",
  },
  balance: {
    label: "Rank workload balance, max/mean (1 = even; mean over steps)",
    kind: "number",
    group: "Training",
  },
  fill: { label: "Packed context fill (mean over steps)", kind: "share", group: "Training" },
  offlineDifficulty: { label: "Offline difficulty from", kind: "text", group: "Curriculum" },
  offlineScoringSeconds: {
    label: "Offline difficulty scoring time (s)",
    kind: "seconds",
    group: "Curriculum",
    whenNull: "— (task levels need no scoring)",
  },
  tokensPerSec: { label: "Generation throughput (tokens/s)", kind: "number", group: "Time and throughput" },
  sftSeconds: { label: "SFT wall time (s)", kind: "seconds", group: "Time and throughput" },
  rlSeconds: { label: "RL wall time (s)", kind: "seconds", group: "Time and throughput" },
  wallSeconds: {
    label: "Wall time (s)",
    kind: "seconds",
    group: "Time and throughput",
    note: "this invocation; a resumed run counts only the part after the resume",
  },
};

/** Shown as a list above the tables, not as a row: a person should not miss them. */
const WARNINGS_KEY = "warnings";

/** `compare.json` (compare.ts `CompareResult`) as rows. */
const COMPARE_LABELS: Record<string, Label> = {
  target: { label: "Target: uniform sampling's final held-out accuracy", kind: "share" },
  rlcsRollouts: { label: "Rollouts RLCS needed to reach it", kind: "count", whenNull: "— (never reached)" },
  uniformRollouts: { label: "Rollouts uniform sampling generated", kind: "count" },
  ratio: {
    label: "Rollout ratio, RLCS / uniform (below 1: RLCS needed fewer)",
    kind: "number",
    whenNull: "n/a",
  },
  rlcsFinalAccuracy: { label: "Final held-out accuracy, RLCS", kind: "share" },
  uniformFinalAccuracy: { label: "Final held-out accuracy, uniform sampling", kind: "share" },
};

/** Words for the few text values that are codes. */
const TEXT_VALUES: Record<string, string> = {
  level: "task level",
  "sft-likelihood": "SFT checkpoint's likelihood of the reference response",
  rlcs: "RLCS (curriculum sampling)",
  uniform: "uniform",
};

/** Per-family and per-level accuracies: one table each, a column per checkpoint. */
const BREAKDOWNS = [
  {
    title: "Held-out accuracy by task family",
    head: "task family",
    keys: ["sftPerFamily", "rlPerFamily", "continuedSftPerFamily"],
    row: (k: string) => k,
  },
  {
    title: "Held-out accuracy by difficulty level",
    head: "level",
    keys: ["sftPerLevel", "rlPerLevel", "continuedSftPerLevel"],
    row: (k: string) => `level ${k}`,
  },
] as const;
const CHECKPOINTS = ["after SFT", "after RL", "continued SFT (control)"];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A value as table-cell HTML: typed by its label when there is one, else by its own shape. */
function cellHtml(value: unknown, label?: Label): string {
  if (value === null || value === undefined) return escapeHtml(label?.whenNull ?? "—");
  if (typeof value === "number") {
    if (label?.kind === "share") return formatShare(value);
    if (label?.kind === "count") return formatNumber(Math.round(value));
    return formatNumber(value);
  }
  if (typeof value === "string") return escapeHtml(TEXT_VALUES[value] ?? value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value))
    return value.every((v) => !isRecord(v) && !Array.isArray(v))
      ? value.map((v) => cellHtml(v)).join(", ")
      : value.map((v) => cellHtml(v)).join("");
  if (isRecord(value)) return nestedTable(value);
  return escapeHtml(String(value));
}

const rowHtml = (key: string, value: unknown, labels: Record<string, Label>): string => {
  const label = labels[key];
  const note = label?.note ? ` title="${escapeHtml(label.note)}"` : "";
  return `<tr><th${note}>${escapeHtml(label?.label ?? humanizeKey(key))}</th><td>${cellHtml(value, label)}</td></tr>`;
};

/** An object nobody labelled: its keys in words, its values in cells (recursively). */
const nestedTable = (obj: Record<string, unknown>): string =>
  `<table class="nested">${Object.entries(obj)
    .map(([k, v]) => rowHtml(k, v, {}))
    .join("")}</table>`;

function breakdownTable(summary: Record<string, unknown>, b: (typeof BREAKDOWNS)[number]): string {
  const columns = b.keys.map((k) => summary[k]).map((v) => (isRecord(v) ? v : null));
  const shown = columns.flatMap((c, i) => (c ? [i] : []));
  const rowKeys = [...new Set(columns.flatMap((c) => (c ? Object.keys(c) : [])))];
  if (rowKeys.length === 0) return "";
  rowKeys.sort((a, c) => a.localeCompare(c, "en", { numeric: true }));
  const head = `<tr><th>${b.head}</th>${shown.map((i) => `<th>${CHECKPOINTS[i]}</th>`).join("")}</tr>`;
  const rows = rowKeys.map((k) => {
    const cells = shown.map((i) => {
      const v = columns[i]![k];
      return `<td>${typeof v === "number" ? formatShare(v) : "—"}</td>`;
    });
    return `<tr><th>${escapeHtml(b.row(k))}</th>${cells.join("")}</tr>`;
  });
  return `<h3>${b.title}</h3><table class="breakdown"><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>`;
}

/**
 * The summary as HTML tables: labelled figures grouped by topic, then per-family / per-level accuracy, then the
 * `--compare` result.
 * @example summaryTables({ sftAccuracy: 0.5, rlSteps: 30 }) // "…<th>RL steps</th><td>30</td>…"
 */
export function summaryTables(summary: Record<string, unknown>): string {
  const nested = new Set<string>([...BREAKDOWNS.flatMap((b) => b.keys), "compare", WARNINGS_KEY]);
  const known = Object.keys(SUMMARY_LABELS).filter((k) => k in summary);
  const others = Object.keys(summary).filter((k) => !(k in SUMMARY_LABELS) && !nested.has(k));
  const groups = new Map<string, string[]>();
  for (const key of [...known, ...others]) {
    const group = SUMMARY_LABELS[key]?.group ?? "Other";
    groups.set(group, [...(groups.get(group) ?? []), rowHtml(key, summary[key], SUMMARY_LABELS)]);
  }
  const main = [...groups]
    .map(
      ([group, rows]) =>
        `<tbody><tr class="group"><th colspan="2">${group}</th></tr>${rows.join("")}</tbody>`,
    )
    .join("");
  const compare = isRecord(summary.compare)
    ? `<h3>RLCS against uniform sampling (--compare)</h3><table class="compare">${Object.entries(
        summary.compare,
      )
        .map(([k, v]) => rowHtml(k, v, COMPARE_LABELS))
        .join("")}</table>`
    : "";
  const breakdowns = BREAKDOWNS.map((b) => breakdownTable(summary, b)).join("");
  const warnings = Array.isArray(summary[WARNINGS_KEY]) ? (summary[WARNINGS_KEY] as unknown[]) : [];
  const warningList = warnings.length
    ? `<ul class="warnings">${warnings.map((w) => `<li>warning: ${escapeHtml(String(w))}</li>`).join("")}</ul>`
    : "";
  return `${warningList}${main ? `<table class="summary">${main}</table>` : ""}${breakdowns}${compare}`;
}
