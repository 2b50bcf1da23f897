/**
 * What the main job needs from an engine (model, SFT, evaluation, rewards), so that the same pipeline runs on the
 * local tiny model or on anything else behind `Policy`.
 */
import type { TaskItem } from "../../data/tasks/types.ts";
import type { Policy, PolicyPrompt } from "../loop/policy.ts";
import type { HeldoutResult } from "../loop/step-metrics.ts";
import type { Scorer } from "../loop/trainer.ts";

/** Options of one SFT run: a fixed number of steps, or as many as fit in `seconds` (the control). */
export type SftRunOptions = {
  steps?: number | undefined;
  seconds?: number | undefined;
  lr: number;
  warmupSteps: number;
  seed: number;
  onStep?: ((step: number) => void) | undefined;
};

/** What the pipeline needs from an engine. `createPolicy` gives fresh (seeded) weights. */
export type MainJobEngine = {
  createPolicy(seed: number): Promise<Policy>;
  /** A fresh optimiser state (RL starts with one; design.md). */
  resetOptimizer(policy: Policy): void;
  sft(
    policy: Policy,
    items: readonly TaskItem[],
    opts: SftRunOptions,
  ): Promise<{ steps: number; seconds: number }>;
  /** Held-out figures, and (optionally) each item's greedy response, for the eval harness's record of the run. */
  evaluate(policy: Policy, items: readonly TaskItem[]): Promise<HeldoutResult & { responses?: string[] }>;
  toPrompt(item: TaskItem): PolicyPrompt;
  /**
   * Per item, the policy's probability of the item's reference response (its SFT target), for the
   * `sft-likelihood` offline difficulty. Optional: engines that cannot score sequences leave it out.
   */
  referenceLikelihood?(policy: Policy, items: readonly TaskItem[]): Promise<number[]>;
  /** A scorer (the reward pool) and its shutdown. */
  scorer(): { score: Scorer; close: () => Promise<void> };
};

/** Progress bar factory (a TTY bar in the CLI, silent elsewhere). */
export type ProgressBars = (total: number, label: string) => { tick: () => void; stop: () => void };
