/**
 * `summary.json` of a main-job run as a zod schema, the source of the `Summary` type, and `summarizeRun`, the pure
 * function that works its figures out from the phases' results. The shape stays flat (one key per figure), as the
 * report's label map, the README and older run folders read it; figures added after the first runs default when
 * an older summary.json lacks them, so a finished old run still reads back.
 */
import { z } from "zod";
import { GlmvError } from "../../util/errors.ts";
import { parseOrThrow } from "../../util/zod-error.ts";
import { HeldoutResult, type StepMetrics } from "../loop/step-metrics.ts";

const shares = z.record(z.string(), z.number());

export const Summary = z.object({
  sampler: z.string(),
  sftAccuracy: z.number(),
  rlAccuracy: z.number(),
  /** null when the control was switched off (`control: false`). */
  continuedSftAccuracy: z.number().nullable(),
  sftPerFamily: shares,
  rlPerFamily: shares,
  continuedSftPerFamily: shares.nullable(),
  /** Held-out accuracy of one sample per item at the rollout temperature (null when not measured). */
  sftSampledAccuracy: z.number().nullable().default(null),
  rlSampledAccuracy: z.number().nullable().default(null),
  continuedSftSampledAccuracy: z.number().nullable().default(null),
  /** Held-out accuracy by difficulty level (empty when the engine does not report levels). */
  sftPerLevel: shares.default({}),
  rlPerLevel: shares.default({}),
  continuedSftPerLevel: shares.nullable().default(null),
  heldoutItems: z.number(),
  rlSteps: z.number(),
  rlSeconds: z.number(),
  continuedSftSteps: z.number().nullable(),
  sftSeconds: z.number(),
  signalShare: z.number(),
  sampledSignalRate: z.number(),
  tokensPerSec: z.number(),
  balance: z.number(),
  fill: z.number(),
  rolloutsTotal: z.number(),
  /** Where the curriculum's offline difficulty came from, and what scoring it cost (null for `level`). */
  offlineDifficulty: z.enum(["level", "sft-likelihood"]).default("level"),
  offlineScoringSeconds: z.number().nullable().default(null),
  /** This invocation's wall time (a resumed run counts only the part after the resume). */
  wallSeconds: z.number(),
  /** What the run found wrong with itself, e.g. an RL phase with no signal to learn from. */
  warnings: z.array(z.string()).default([]),
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

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * The run's summary: each phase's held-out figures, the RL steps' per-step figures averaged over the configured
 * steps, the rollout count after the last of them, and times.
 * @example summarizeRun(outcome).rlSteps // 30
 */
export function summarizeRun(o: RunOutcome): Summary {
  const { sft, rl, control, metrics } = o;
  const over = (pick: (m: StepMetrics) => number) => mean(metrics.map(pick));
  return {
    sampler: o.sampler,
    sftAccuracy: sft.heldout.accuracy,
    rlAccuracy: rl.heldout.accuracy,
    continuedSftAccuracy: control?.heldout.accuracy ?? null,
    sftPerFamily: sft.heldout.perFamily,
    rlPerFamily: rl.heldout.perFamily,
    continuedSftPerFamily: control?.heldout.perFamily ?? null,
    sftSampledAccuracy: sft.heldout.sampledAccuracy ?? null,
    rlSampledAccuracy: rl.heldout.sampledAccuracy ?? null,
    continuedSftSampledAccuracy: control?.heldout.sampledAccuracy ?? null,
    sftPerLevel: sft.heldout.perLevel ?? {},
    rlPerLevel: rl.heldout.perLevel ?? {},
    continuedSftPerLevel: control ? (control.heldout.perLevel ?? {}) : null,
    heldoutItems: rl.heldout.items,
    rlSteps: metrics.length,
    rlSeconds: rl.seconds,
    continuedSftSteps: control?.steps ?? null,
    sftSeconds: sft.seconds,
    signalShare: over((m) => m.signalShare),
    sampledSignalRate: over((m) => m.sampledSignalRate),
    tokensPerSec: over((m) => m.tokensPerSec),
    balance: over((m) => m.balance),
    fill: over((m) => m.fill),
    rolloutsTotal: metrics.at(-1)?.rolloutsTotal ?? 0,
    offlineDifficulty: o.offline ? "sft-likelihood" : "level",
    offlineScoringSeconds: o.offline?.seconds ?? null,
    wallSeconds: o.wallSeconds,
    warnings: [...o.warnings],
  };
}

/**
 * A summary.json's text read back through the schema (older flat files included); a file that is not JSON or not
 * a summary is a `checkpoint_corrupt` error naming it.
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
  return parseOrThrow(Summary, value, "checkpoint_corrupt", { source: path });
}
