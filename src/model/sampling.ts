/**
 * Token sampling on host logits: temperature, top-k, top-p (nucleus), greedy at temperature 0. Pure functions;
 * randomness comes only from a passed generator (`mulberry32(seed)` from src/util/rng.ts), so a seed fixes the
 * whole rollout.
 *
 * Order of the filters (as Hugging Face's logits processors apply them): temperature → top-k → top-p. Two
 * log-probabilities come back for the chosen token:
 * - `logprob`: log-softmax of the RAW logits (temperature 1, no filtering) — the policy's probability of the token,
 *   which is what the RL loss needs for importance ratios against the trainer's own recomputation.
 * - `samplerLogprob`: log-probability under the PROCESSED distribution the token was actually drawn from
 *   (tempered, filtered, renormalised); 0 for greedy picks and for a distribution left with one token.
 */
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";

/** Sampling settings. Defaults are the RL rollout settings (temperature 1, top-p 1, no top-k). */
export const SamplingConfig = z.object({
  /** 0 = greedy (argmax, lowest id on ties). */
  temperature: z.number().min(0).default(1),
  /** Keep the smallest set of most-likely tokens whose mass reaches topP; 1 disables. */
  topP: z.number().gt(0).max(1).default(1),
  /** Keep the k most-likely tokens; 0 disables. */
  topK: z.number().int().min(0).default(0),
});
export type SamplingConfig = z.infer<typeof SamplingConfig>;

/** The chosen token and its two log-probabilities (see the module comment). */
export type SampledToken = { token: number; logprob: number; samplerLogprob: number };

/**
 * Numerically stable log-softmax in float64.
 * @example logSoftmax(Float32Array.of(0, 0)) // [-0.693…, -0.693…]
 */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - lse;
  return out;
}

/**
 * Index of the largest value (the first one on ties).
 * @example argmax([1, 3, 3]) // 1
 */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * The distribution a token is drawn from: softmax(logits / T), then only the top-k, then the top-p nucleus,
 * renormalised. Entries outside the kept set are 0. Needs temperature > 0.
 * @example processedProbs(Float32Array.of(2, 1, 0), { temperature: 1, topP: 1, topK: 1 }) // [1, 0, 0]
 */
export function processedProbs(logits: ArrayLike<number>, cfg: SamplingConfig): Float64Array {
  if (cfg.temperature <= 0) throw new GlmvError("bad_argument", "processedProbs needs temperature > 0");
  if (logits.length === 0) throw new GlmvError("bad_input", "empty logits");
  const scaled = Array.from(logits, (x) => x / cfg.temperature);
  const logp = logSoftmax(scaled);
  // no filter (the RL rollout setting): the tempered softmax itself, without sorting the vocabulary every token
  if (cfg.topK === 0 && cfg.topP >= 1) return logp.map(Math.exp);
  const order = Array.from(logp.keys()).sort((a, b) => logp[b]! - logp[a]! || a - b);
  const k = cfg.topK > 0 ? Math.min(cfg.topK, order.length) : order.length;
  // nucleus over the top-k survivors, renormalised among them first (HF applies top-p to the top-k-masked logits)
  let kMass = 0;
  for (let i = 0; i < k; i++) kMass += Math.exp(logp[order[i]!]!);
  let kept = 0;
  let mass = 0;
  while (kept < k) {
    mass += Math.exp(logp[order[kept]!]!) / kMass;
    kept++;
    if (mass >= cfg.topP) break;
  }
  const probs = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < kept; i++) total += Math.exp(logp[order[i]!]!);
  for (let i = 0; i < kept; i++) probs[order[i]!] = Math.exp(logp[order[i]!]!) / total;
  return probs;
}

/**
 * Choose the next token from one row of logits.
 * @param rand uniform [0, 1) generator; called exactly once per non-greedy pick, never for greedy
 * @example
 * const rand = mulberry32(7);
 * sampleToken(logits, SamplingConfig.parse({ temperature: 0.7, topP: 0.9 }), rand).token;
 */
export function sampleToken(
  logits: ArrayLike<number>,
  cfg: SamplingConfig,
  rand: () => number,
): SampledToken {
  const logp = logSoftmax(logits);
  if (cfg.temperature === 0) {
    const token = argmax(logits);
    return { token, logprob: logp[token]!, samplerLogprob: 0 };
  }
  const probs = processedProbs(logits, cfg);
  const u = rand();
  let acc = 0;
  let token = -1;
  let lastKept = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    lastKept = i;
    acc += probs[i]!;
    if (u < acc) {
      token = i;
      break;
    }
  }
  if (token < 0) token = lastKept; // u within rounding of 1
  return { token, logprob: logp[token]!, samplerLogprob: Math.log(probs[token]!) };
}
