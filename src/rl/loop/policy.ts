/**
 * The policy interface of the RL loop (design.md "Engines"). Rollouts and updates go only through it, so the
 * in-process model (`LocalPolicy`), a trainer-API client (`TinkerPolicy`) or an OpenAI-compatible engine plug in
 * without touching the loop. Prompts are engine-agnostic chat messages with images; each policy encodes them, once
 * per step where it keeps encodings for the step (`withPromptCache`).
 */
import type { ResponseStyle } from "../../model/domains.ts";
import type { ChatPrompt } from "../../model/encode.ts";

/** One prompt: chat messages (images referenced by `{type: "image"}` items, in order) and their images. */
export type PolicyPrompt = ChatPrompt;

export type RolloutParams = {
  /** Rollouts per prompt (the group size G). */
  n: number;
  /** 1 for RL rollouts (top-p = 1 too: §5.3.2); 0 is greedy, for evaluation. */
  temperature: number;
  topP: number;
  maxNewTokens: number;
  /** New tokens allowed before force-answering injects `</think>` (and `<answer>` in the 4.1V style). */
  thinkBudget: number;
  style: ResponseStyle;
  /** Seed of this call's sampling (derived from the run seed and step, so a resumed run samples the same). */
  seed: number;
};

/** A prompt and a response to it, for scoring the response's logprobs under a policy's current weights. */
export type ScoredSequence = { prompt: PolicyPrompt; rollout: Pick<Rollout, "tokens"> };

/** One sampled response with what the update needs. */
export type Rollout = {
  promptId: string;
  /** Response token ids (after the prompt), including injected ones. */
  tokens: number[];
  /** The sampler's log-probability of each response token (0 for injected tokens). */
  logprobs: number[];
  /** True for tokens injected by force-answering: they never receive gradient. */
  injected: boolean[];
  /** Decoded response text with special tokens kept (the reward's format gate needs them). */
  text: string;
  /** Whether a stop token ended it (false: cut at maxNewTokens). */
  finished: boolean;
  /** Prompt length in tokens (for balancing and packing). */
  promptTokens: number;
};

/** A sample of the update batch: a rollout and its group-normalised advantage. */
export type UpdateSample = { prompt: PolicyPrompt; rollout: Rollout; advantage: number };

export type UpdateBatch = {
  samples: UpdateSample[];
  // no engine runs ranks apart (both flattened them): the rank split stays in the pack phase, for its balance figure
  /**
   * Micro-batches as indices into `samples` (balancing + packing), rank after rank: the local engine runs them as
   * its packed rows in this order, the Tinker engine as its `forward_backward` calls.
   */
  microBatches: number[][];
};

export type UpdateParams = {
  lr: number;
  /** Optimiser passes over the batch (design.md: 2 passes beat 1 at tiny scale); old logprobs stay the sampler's. */
  passes: number;
  clipLow: number;
  clipHigh: number;
  aggregation: "sample" | "token";
};

export type UpdateMetrics = {
  loss: number;
  clipFraction: number;
  gradNorm: number;
  /** Tokens that received gradient. */
  tokens: number;
  microSteps: number;
  seconds: number;
  /**
   * MoE policies: per MoE layer, max/mean expert load over the update's tokens (summed over its optimiser
   * passes; 1 is a perfectly even load) and how many experts got no token.
   */
  expertLoad?: { layer: number; maxOverMean: number; idleExperts?: number }[];
};

export interface Policy {
  /** G rollouts for each prompt, grouped per prompt in input order. */
  generate(prompts: readonly PolicyPrompt[], params: RolloutParams): Promise<Rollout[][]>;
  /** One policy update (GRPO, no KL, no entropy) on a balanced, packed batch. */
  update(batch: UpdateBatch, params: UpdateParams): Promise<UpdateMetrics>;
  /** Write weights (+ optimiser state) to a folder; load them back. */
  save(dir: string): Promise<void>;
  load(dir: string): Promise<void>;
  /** Free engine resources. */
  dispose(): Promise<void> | void;
  /**
   * Run `fn` (one RL step) with each prompt's encoding (template, tokens, image patches) kept by prompt id, so that
   * the step's rescoring, rollouts and update encode a prompt once; the encodings are dropped when `fn` settles.
   * Optional: an engine without it encodes per call (or keeps its own, as `TinkerPolicy` does).
   */
  withPromptCache?<T>(fn: () => Promise<T>): Promise<T>;
}
