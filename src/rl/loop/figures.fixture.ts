/**
 * Test support for the figure tests (`*.figures.test.ts`): a hand-set clock behind `Date.now`, stub task items,
 * a policy whose every rollout is scripted (right or wrong, how many tokens) and a scorer that reads the script
 * back, so that each figure of a step can be worked out by hand.
 */
import { vi } from "vitest";
import type { TaskFamily, TaskItem } from "../../data/tasks/types.ts";
import type { ScoredResult } from "../../reward/system.ts";
import type {
  Policy,
  PolicyPrompt,
  Rollout,
  RolloutParams,
  UpdateBatch,
  UpdateMetrics,
  UpdateParams,
} from "./policy.ts";
import type { Scorer } from "./trainer.ts";

/**
 * A clock that moves only when a test (or a scripted policy) says so: `Date.now` (and, with `performance`,
 * `performance.now`) read it until `restore`.
 */
export function manualClock(
  startMs = 1_000_000,
  { performance: fakePerformance = false }: { performance?: boolean } = {},
): {
  advance: (ms: number) => void;
  nowMs: () => number;
  restore: () => void;
} {
  let t = startMs;
  const spies = [vi.spyOn(Date, "now").mockImplementation(() => t)];
  if (fakePerformance) spies.push(vi.spyOn(performance, "now").mockImplementation(() => t));
  return {
    advance: (ms) => {
      t += ms;
    },
    nowMs: () => t,
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** A task item with only what the trainer reads (the scripted policy never looks at an image). */
export const stubItem = (id: string, family: TaskFamily, level: number): TaskItem => ({
  id,
  family,
  domain: family === "math" ? "math" : "counting",
  level,
  split: "train",
  seed: 0,
  image: { width: 1, height: 1, data: new Uint8Array(3) },
  question: "how many?",
  answer: "1",
  responseAnswer: "1",
  cot: "",
});

/** One prompt's group: which rollouts are right, and each rollout's response length in tokens. */
export type ScriptedGroup = { right: boolean[]; tokens?: number[] };

/** Reward of a scripted wrong answer: not 0, so that the mean reward and the share right differ. */
export const WRONG_REWARD = 0.2;

export type ScriptedPolicyOptions = {
  /** The group of each prompt of the `call`-th generate call (0-based) at index `i` of that call. */
  group: (promptId: string, call: number, i: number) => ScriptedGroup;
  promptTokens?: number;
  /** Moves the clock during generate and update (seconds each), so the phase timings are exact. */
  clock?: { advance: (ms: number) => void };
  genSeconds?: number;
  updateSeconds?: number;
  /** What every update reports. */
  updateMetrics?: UpdateMetrics;
};

export type ScriptedPolicy = Policy & {
  generateCalls: { prompts: readonly PolicyPrompt[]; params: RolloutParams }[];
  updates: { batch: UpdateBatch; params: UpdateParams }[];
};

/** A policy that plays back `opts.group`: rollout text "right" or "wrong", tokens 0..len-1. */
export function scriptedPolicy(opts: ScriptedPolicyOptions): ScriptedPolicy {
  const generateCalls: ScriptedPolicy["generateCalls"] = [];
  const updates: ScriptedPolicy["updates"] = [];
  return {
    generateCalls,
    updates,
    async generate(prompts, params) {
      const call = generateCalls.length;
      generateCalls.push({ prompts, params });
      opts.clock?.advance((opts.genSeconds ?? 0) * 1000);
      return prompts.map((p, i): Rollout[] => {
        const g = opts.group(p.id, call, i);
        if (g.right.length !== params.n) throw new Error(`script for ${p.id} has ${g.right.length} rollouts`);
        return g.right.map((right, k) => {
          const len = g.tokens?.[k] ?? 1;
          return {
            promptId: p.id,
            tokens: Array.from({ length: len }, (_, t) => t),
            logprobs: Array(len).fill(-1),
            injected: Array(len).fill(false),
            text: right ? "right" : "wrong",
            finished: true,
            promptTokens: opts.promptTokens ?? 10,
          };
        });
      });
    },
    async update(batch, params) {
      updates.push({ batch, params });
      opts.clock?.advance((opts.updateSeconds ?? 0) * 1000);
      return (
        opts.updateMetrics ?? { loss: 0, clipFraction: 0, gradNorm: 0, tokens: 0, microSteps: 1, seconds: 0 }
      );
    },
    save: () => Promise.resolve(),
    load: () => Promise.resolve(),
    dispose: () => {},
  };
}

/** Scores the scripted texts: "right" is reward 1 and correct, anything else `WRONG_REWARD` and wrong. */
export const scriptedScorer =
  (clock?: { advance: (ms: number) => void }, seconds = 0): Scorer =>
  async (inputs) => {
    clock?.advance(seconds * 1000);
    return inputs.map(
      (i): ScoredResult => ({
        reward: i.response === "right" ? 1 : WRONG_REWARD,
        correct: i.response === "right",
        format: "ok",
        extracted: null,
        timedOut: false,
        stage: "verify",
      }),
    );
  };

/** `n` rollouts, the first `k` right. */
export const rightOf = (k: number, n: number): boolean[] => Array.from({ length: n }, (_, j) => j < k);
