/**
 * `summary.json` of a main-job run as a zod schema, the source of the `Summary` type, and `summarizeRun`, the pure
 * function that works its figures out from the phases' results. Its figures are grouped by the phase they describe
 * (`sft`, `offline`, `rl`, `control`) beside the run's own (held-out items, wall time, warnings); a summary.json
 * written before the grouping (flat, summary-flat.ts) reads back converted.
 */
import { z } from "zod";
import { GlmvError } from "../../util/errors.ts";
import { parseOrThrow } from "../../util/zod-error.ts";
import { HeldoutResult, type StepMetrics } from "../loop/step-metrics.ts";
import { FlatSummary, isFlatSummary, nestFlatSummary } from "./summary-flat.ts";

const shares = z.record(z.string(), z.number());

/** One checkpoint's held-out evaluation (the same items for every checkpoint: `heldoutItems`). */
const HeldoutFigures = z.object({
  /** Greedy accuracy. */
  accuracy: z.number(),
  /** One sample per item at the rollout temperature; null when not measured. */
  sampledAccuracy: z.number().nullable(),
  perFamily: shares,
  /** By difficulty level; empty when the engine does not report levels. */
  perLevel: shares,
});

/** The format SFT from fresh weights: its checkpoint is where RL and the control start. */
export const SftSummary = HeldoutFigures.extend({ seconds: z.number() });

/** Where the curriculum's offline difficulty came from, and what scoring it cost (null for `level`). */
export const OfflineSummary = z.object({
  difficulty: z.enum(["level", "sft-likelihood"]),
  seconds: z.number().nullable(),
});

/** The RL run: its checkpoint's held-out figures and its configured steps' figures (means over those steps). */
export const RlSummary = HeldoutFigures.extend({
  sampler: z.string(),
  steps: z.number(),
  seconds: z.number(),
  /** Share of the trained batch with signal. */
  signalShare: z.number(),
  /** Share of sampled groups with signal. */
  sampledSignalRate: z.number(),
  tokensPerSec: z.number(),
  balance: z.number(),
  fill: z.number(),
  /** After the last configured step. */
  rolloutsTotal: z.number(),
});

/** The honest control: continued SFT from the SFT checkpoint for RL's wall time. */
export const ControlSummary = HeldoutFigures.extend({ steps: z.number() });

export const Summary = z.object({
  sft: SftSummary,
  offline: OfflineSummary,
  rl: RlSummary,
  /** null when the control was switched off (`control: false`). */
  control: ControlSummary.nullable(),
  heldoutItems: z.number(),
  /** This invocation's wall time (a resumed run counts only the part after the resume). */
  wallSeconds: z.number(),
  /** What the run found wrong with itself, e.g. an RL phase with no signal to learn from. */
  warnings: z.array(z.string()),
});
export type Summary = z.infer<typeof Summary>;

/** An SFT run (the format SFT or the continued-SFT control): its held-out result, steps and seconds. */
export const SftPhaseResult = z.object({ heldout: HeldoutResult, steps: z.number(), seconds: z.number() });
export type SftPhaseResult = z.infer<typeof SftPhaseResult>;

/** What `summarizeRun` reads: each phase's result, the configured RL steps' metrics, and the run's own notes. */
export type RunOutcome = {
  sampler: string;
  sft: SftPhaseResult;
  rl: { heldout: HeldoutResult; seconds: number };
  /** The configured RL steps only (a `--compare` run may have continued RLCS past them). */
  metrics: readonly StepMetrics[];
  /** Absent when the control was switched off. */
  control?: SftPhaseResult | undefined;
  /** The `sft-likelihood` scoring, absent when the curriculum used the task level. */
  offline?: { seconds: number } | undefined;
  wallSeconds: number;
  warnings: readonly string[];
};

const heldoutFigures = (h: HeldoutResult): z.infer<typeof HeldoutFigures> => ({
  accuracy: h.accuracy,
  sampledAccuracy: h.sampledAccuracy ?? null,
  perFamily: h.perFamily,
  perLevel: h.perLevel ?? {},
});

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * The run's summary: each phase's held-out figures, the RL steps' per-step figures averaged over the configured
 * steps, the rollout count after the last of them, and times.
 * @example summarizeRun(outcome).rl.steps // 30
 */
export function summarizeRun(o: RunOutcome): Summary {
  const { sft, rl, control, metrics } = o;
  const over = (pick: (m: StepMetrics) => number) => mean(metrics.map(pick));
  return {
    sft: { ...heldoutFigures(sft.heldout), seconds: sft.seconds },
    offline: o.offline
      ? { difficulty: "sft-likelihood", seconds: o.offline.seconds }
      : { difficulty: "level", seconds: null },
    rl: {
      sampler: o.sampler,
      ...heldoutFigures(rl.heldout),
      steps: metrics.length,
      seconds: rl.seconds,
      signalShare: over((m) => m.signalShare),
      sampledSignalRate: over((m) => m.sampledSignalRate),
      tokensPerSec: over((m) => m.tokensPerSec),
      balance: over((m) => m.balance),
      fill: over((m) => m.fill),
      rolloutsTotal: metrics.at(-1)?.rolloutsTotal ?? 0,
    },
    control: control ? { ...heldoutFigures(control.heldout), steps: control.steps } : null,
    heldoutItems: rl.heldout.items,
    wallSeconds: o.wallSeconds,
    warnings: [...o.warnings],
  };
}

/**
 * A summary.json's text read back through the schema; a flat one (written before the summary was nested) is read
 * through the flat schema and nested. A file that is not JSON or not a summary is a `checkpoint_corrupt` error
 * naming it and the figure.
 */
export function parseSummary(text: string, path: string): Summary {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new GlmvError("checkpoint_corrupt", `summary.json is not valid JSON: ${(e as Error).message}`, {
      where: path,
      cause: e,
    });
  }
  if (isFlatSummary(value))
    return nestFlatSummary(parseOrThrow(FlatSummary, value, "checkpoint_corrupt", { source: path }));
  return parseOrThrow(Summary, value, "checkpoint_corrupt", { source: path });
}
