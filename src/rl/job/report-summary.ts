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

/** The figures of `summary.json` (summary.ts `Summary`) by dotted path, in the order the table lists them. */
export const SUMMARY_LABELS: Record<string, Label> = {
  "sft.accuracy": { label: "Held-out accuracy after SFT", kind: "share", group: "Held-out accuracy" },
  "rl.accuracy": { label: "Held-out accuracy after RL", kind: "share", group: "Held-out accuracy" },
  "control.accuracy": {
    label: "Held-out accuracy after continued SFT (control, same wall time as RL)",
    kind: "share",
    group: "Held-out accuracy",
    whenNull: CONTROL_OFF,
  },
  "sft.sampledAccuracy": {
    label: "Held-out accuracy after SFT, sampled at the rollout temperature",
    kind: "share",
    group: "Held-out accuracy",
    whenNull: NOT_MEASURED,
  },
  "rl.sampledAccuracy": {
    label: "Held-out accuracy after RL, sampled at the rollout temperature",
    kind: "share",
    group: "Held-out accuracy",
    whenNull: NOT_MEASURED,
  },
  "control.sampledAccuracy": {
    label: "Held-out accuracy after continued SFT, sampled at the rollout temperature",
    kind: "share",
    group: "Held-out accuracy",
    whenNull: NOT_MEASURED,
  },
  heldoutItems: { label: "Held-out items", kind: "count", group: "Held-out accuracy" },
  "rl.sampler": { label: "Prompt sampler", kind: "text", group: "Training" },
  "rl.steps": { label: "RL steps", kind: "count", group: "Training" },
  "rl.rolloutsTotal": { label: "Rollouts generated", kind: "count", group: "Training" },
  "control.steps": {
    label: "Continued-SFT steps (control)",
    kind: "count",
    group: "Training",
    whenNull: CONTROL_OFF,
  },
  "rl.signalShare": {
    label: "Share of the trained batch with signal (mean over steps)",
    kind: "share",
    group: "Training",
  },
  "rl.sampledSignalRate": {
    label: "Share of sampled groups with signal (mean over steps)",
    kind: "share",
    group: "Training",
  },
  "rl.balance": {
    label: "Rank workload balance, max/mean (1 = even; mean over steps)",
    kind: "number",
    group: "Training",
  },
  "rl.fill": { label: "Packed context fill (mean over steps)", kind: "share", group: "Training" },
  "offline.difficulty": { label: "Offline difficulty from", kind: "text", group: "Curriculum" },
  "offline.seconds": {
    label: "Offline difficulty scoring time (s)",
    kind: "seconds",
    group: "Curriculum",
    whenNull: "— (task levels need no scoring)",
  },
  "rl.tokensPerSec": {
    label: "Generation throughput (tokens/s)",
    kind: "number",
    group: "Time and throughput",
  },
  "sft.seconds": { label: "SFT wall time (s)", kind: "seconds", group: "Time and throughput" },
  "rl.seconds": { label: "RL wall time (s)", kind: "seconds", group: "Time and throughput" },
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
    keys: ["sft.perFamily", "rl.perFamily", "control.perFamily"],
    row: (k: string) => k,
  },
  {
    title: "Held-out accuracy by difficulty level",
    head: "level",
    keys: ["sft.perLevel", "rl.perLevel", "control.perLevel"],
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

const rowHtml = (key: string, value: unknown, label: Label | undefined): string => {
  const note = label?.note ? ` title="${escapeHtml(label.note)}"` : "";
  return `<tr><th${note}>${escapeHtml(label?.label ?? humanizeKey(key))}</th><td>${cellHtml(value, label)}</td></tr>`;
};

/** An object nobody labelled: its keys in words, its values in cells (recursively). */
const nestedTable = (obj: Record<string, unknown>): string =>
  `<table class="nested">${Object.entries(obj)
    .map(([k, v]) => rowHtml(k, v, undefined))
    .join("")}</table>`;

function breakdownTable(figures: ReadonlyMap<string, unknown>, b: (typeof BREAKDOWNS)[number]): string {
  const columns = b.keys.map((k) => figures.get(k)).map((v) => (isRecord(v) ? v : null));
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

/** The summary's phase groups, as words for a figure of theirs that has no label. */
const PHASES: Record<string, string> = {
  sft: "SFT",
  offline: "Offline difficulty",
  rl: "RL",
  control: "Continued SFT (control)",
};
/** What every figure of a phase that did not run reads as. */
const PHASE_OFF: Record<string, string> = { control: CONTROL_OFF };

/**
 * The summary's figures by dotted path (a phase's under `phase.figure`) with their labels; a phase that did not run
 * (null) keeps its labelled rows, saying why they are empty.
 */
function labelledFigures(summary: Record<string, unknown>): Map<string, { value: unknown; label?: Label }> {
  const figures = new Map<string, { value: unknown; label?: Label }>();
  for (const [key, value] of Object.entries(summary)) {
    const phase = PHASES[key];
    if (phase === undefined || (value !== null && !isRecord(value))) {
      figures.set(key, { value, ...(SUMMARY_LABELS[key] ? { label: SUMMARY_LABELS[key] } : {}) });
      continue;
    }
    const off = PHASE_OFF[key] ?? NOT_MEASURED;
    const entries: [string, unknown][] = isRecord(value)
      ? Object.entries(value)
      : Object.keys(SUMMARY_LABELS).flatMap((k) =>
          k.startsWith(`${key}.`) ? [[k.slice(key.length + 1), null]] : [],
        );
    for (const [figure, v] of entries) {
      const path = `${key}.${figure}`;
      const known = SUMMARY_LABELS[path];
      const label: Label = known
        ? { ...known, ...(value === null ? { whenNull: off } : {}) }
        : { label: `${phase}: ${humanizeKey(figure).toLowerCase()}`, kind: "number" };
      figures.set(path, { value: v, label });
    }
  }
  return figures;
}

/**
 * The summary as HTML tables: labelled figures grouped by topic, then per-family / per-level accuracy, then the
 * `--compare` result.
 * @example summaryTables({ rl: { accuracy: 0.5, steps: 30 } }) // "…<th>RL steps</th><td>30</td>…"
 */
export function summaryTables(summary: Record<string, unknown>): string {
  const nested = new Set<string>([...BREAKDOWNS.flatMap((b) => b.keys), "compare", WARNINGS_KEY]);
  const figures = labelledFigures(summary);
  const known = Object.keys(SUMMARY_LABELS).filter((k) => figures.has(k));
  const others = [...figures.keys()].filter((k) => !(k in SUMMARY_LABELS) && !nested.has(k));
  const groups = new Map<string, string[]>();
  for (const key of [...known, ...others]) {
    const { value, label } = figures.get(key)!;
    const group = label?.group ?? "Other";
    groups.set(group, [...(groups.get(group) ?? []), rowHtml(key, value, label)]);
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
        .map(([k, v]) => rowHtml(k, v, COMPARE_LABELS[k]))
        .join("")}</table>`
    : "";
  const values = new Map([...figures].map(([k, f]) => [k, f.value]));
  const breakdowns = BREAKDOWNS.map((b) => breakdownTable(values, b)).join("");
  const warnings = Array.isArray(summary[WARNINGS_KEY]) ? (summary[WARNINGS_KEY] as unknown[]) : [];
  const warningList = warnings.length
    ? `<ul class="warnings">${warnings.map((w) => `<li>warning: ${escapeHtml(String(w))}</li>`).join("")}</ul>`
    : "";
  return `${warningList}${main ? `<table class="summary">${main}</table>` : ""}${breakdowns}${compare}`;
}
