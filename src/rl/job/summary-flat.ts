/**
 * `summary.json` as glmv wrote it before the summary was nested (one key per figure: `sftAccuracy`, `rlSteps`,
 * `continuedSftAccuracy`…), and its conversion to the nested `Summary`, so a run folder written then still opens
 * for `--resume` and reports. Figures the first flat runs did not write yet default as they did then.
 */
import { z } from "zod";

const shares = z.record(z.string(), z.number());

/** The flat summary, key for key as the last flat version read it back (its defaults included). */
export const FlatSummary = z.object({
  sampler: z.string(),
  sftAccuracy: z.number(),
  rlAccuracy: z.number(),
  continuedSftAccuracy: z.number().nullable(),
  sftPerFamily: shares,
  rlPerFamily: shares,
  continuedSftPerFamily: shares.nullable(),
  sftSampledAccuracy: z.number().nullable().default(null),
  rlSampledAccuracy: z.number().nullable().default(null),
  continuedSftSampledAccuracy: z.number().nullable().default(null),
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
  offlineDifficulty: z.enum(["level", "sft-likelihood"]).default("level"),
  offlineScoringSeconds: z.number().nullable().default(null),
  wallSeconds: z.number(),
  warnings: z.array(z.string()).default([]),
});
export type FlatSummary = z.infer<typeof FlatSummary>;

/**
 * Whether a parsed summary.json is the flat shape: it has no `sft` group and has the flat `sftAccuracy`.
 * @example isFlatSummary({ sftAccuracy: 0.5 }) // true
 */
export const isFlatSummary = (value: unknown): boolean =>
  typeof value === "object" && value !== null && !("sft" in value) && "sftAccuracy" in value;

/**
 * A flat summary's figures under their nested names (same values; a control that did not run is `control: null`,
 * and a control's missing per-level figures are `{}`, as the nested summary writes them). Its type is checked
 * against `Summary` where summary.ts returns it (this module does not import summary.ts: no cycle).
 * @example nestFlatSummary(flat).rl.accuracy === flat.rlAccuracy
 */
export function nestFlatSummary(f: FlatSummary) {
  return {
    sft: {
      accuracy: f.sftAccuracy,
      sampledAccuracy: f.sftSampledAccuracy,
      perFamily: f.sftPerFamily,
      perLevel: f.sftPerLevel,
      seconds: f.sftSeconds,
    },
    offline: { difficulty: f.offlineDifficulty, seconds: f.offlineScoringSeconds },
    rl: {
      sampler: f.sampler,
      accuracy: f.rlAccuracy,
      sampledAccuracy: f.rlSampledAccuracy,
      perFamily: f.rlPerFamily,
      perLevel: f.rlPerLevel,
      steps: f.rlSteps,
      seconds: f.rlSeconds,
      signalShare: f.signalShare,
      sampledSignalRate: f.sampledSignalRate,
      tokensPerSec: f.tokensPerSec,
      balance: f.balance,
      fill: f.fill,
      rolloutsTotal: f.rolloutsTotal,
    },
    control:
      f.continuedSftAccuracy === null
        ? null
        : {
            accuracy: f.continuedSftAccuracy,
            sampledAccuracy: f.continuedSftSampledAccuracy,
            perFamily: f.continuedSftPerFamily ?? {},
            perLevel: f.continuedSftPerLevel ?? {},
            steps: f.continuedSftSteps ?? 0,
          },
    heldoutItems: f.heldoutItems,
    wallSeconds: f.wallSeconds,
    warnings: f.warnings,
  };
}
