/**
 * What the main job checks about a run besides running it: whether it is finished already (a resume must then
 * leave it alone), and whether RL will have any signal to learn from (warned about, and kept for summary.json).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RlConfig } from "../loop/config.ts";
import type { RunStore } from "../loop/run-store.ts";
import type { HeldoutResult } from "../loop/step-metrics.ts";
import { parseSummary, type Summary } from "./summary.ts";

/**
 * The summary of a finished run (summary.json and then report.html written), read back through the `Summary`
 * schema (a flat one written before the grouping too), or undefined. A `--compare` resume of a run finished
 * without it is not finished: the comparison is still to run.
 * @example finishedSummary("runs/main")?.rl.accuracy
 */
export function finishedSummary(outDir: string, compare = false): Summary | undefined {
  const path = join(outDir, "summary.json");
  if (!existsSync(path) || !existsSync(join(outDir, "report.html"))) return undefined;
  if (compare && !existsSync(join(outDir, "compare.json"))) return undefined;
  return parseSummary(readFileSync(path, "utf8"), path);
}

/** Print a warning and keep it in the run's meta (once), for summary.json. */
export function recordWarning(store: RunStore, warn: (line: string) => void, message: string): void {
  warn(message);
  const warnings = store.getMeta<string[]>("warnings") ?? [];
  if (!warnings.includes(message)) store.setMeta("warnings", [...warnings, message]);
}

/**
 * The warning for an SFT checkpoint RL cannot learn from: no held-out item right, greedy or sampled at the rollout
 * temperature, so every group is likely to score 0 everywhere and a GRPO step has nothing to push on.
 */
export function zeroSftWarning(config: RlConfig, heldout: HeldoutResult): string | undefined {
  if (heldout.accuracy > 0 || (heldout.sampledAccuracy ?? 0) > 0) return undefined;
  return (
    `held-out accuracy after SFT is 0%: RL's rollouts will almost all score 0, so its groups carry no signal ` +
    `and its steps learn nothing; give SFT more to work with (sft.steps / --sft-steps, now ${config.sft.steps}; ` +
    `data.sftItemsPerFamily / --sft-items, now ${config.data.sftItemsPerFamily})`
  );
}

export const noSignalWarning = (label: string) =>
  `${label} step 1: no sampled group had signal (every rollout of a prompt scored the same), so the step had ` +
  "nothing to learn from; if this persists, the SFT checkpoint is too weak or too strong for these prompts " +
  "(try more SFT steps or items, or other data.levels)";
