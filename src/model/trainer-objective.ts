/**
 * The trainer core's objective (trainer-core.ts): the loss of a packed batch for dense or MoE weights, with the
 * figures a gradient call reports (loss, clip fraction, per-slot logprobs, MoE balance loss and expert loads).
 */
import { type Array as JaxArray, numpy as np } from "@jax-js/jax";
import type { GlmvConfig } from "./config.ts";
import { forwardLogits, forwardLogitsAndRouting } from "./model.ts";
import { routingBalance } from "./moe-balance.ts";
import type { TrainRows } from "./packed-rows.ts";
import type { GlmvParams } from "./params.ts";
import { type ClipBounds, clippedSurrogate, tokenLogprobs } from "./policy-loss.ts";
import type { TrainLoss } from "./trainer-core-config.ts";

/** The arguments of a jitted gradient call (only the keys its loss and the model kind use). */
export type GradArgs = TrainRows & { auxScale?: JaxArray };
export type GradOut = {
  loss: JaxArray;
  clipFraction: JaxArray;
  auxLoss: JaxArray;
  logprobs: JaxArray;
  loads: JaxArray;
  grads: GlmvParams;
};

/** Ratio bounds of a policy loss; `importance_sampling`'s never bind (the ratio is positive). */
function clipBounds(loss: Exclude<TrainLoss, { kind: "cross_entropy" }>): ClipBounds {
  return loss.kind === "ppo"
    ? { clipLow: loss.clipLow, clipHigh: loss.clipHigh }
    : { clipLow: 1, clipHigh: 1e30 };
}

/** The objective of `loss` on `b` for params `q`, with the reported figures as auxiliary output. */
export function trainObjective(
  cfg: GlmvConfig,
  q: GlmvParams,
  b: GradArgs,
  loss: TrainLoss,
  auxLossCoef: number,
): [JaxArray, Omit<GradOut, "grads">] {
  const moe = cfg.text.moe;
  let logits: JaxArray;
  let routing: ReturnType<typeof forwardLogitsAndRouting>["routing"] = [];
  if (moe) ({ logits, routing } = forwardLogitsAndRouting(q, b.inputs, cfg));
  else logits = forwardLogits(q, b.inputs, cfg);
  const logprobs = tokenLogprobs(logits, b.targets);
  let value: JaxArray;
  let clipFraction: JaxArray;
  if (loss.kind === "cross_entropy") {
    value = logprobs.ref.mul(b.weights).sum().neg();
    clipFraction = np.zeros([]);
  } else {
    [value, clipFraction] = clippedSurrogate(
      logprobs.ref,
      b.oldLogprobs!,
      b.advantages!,
      b.weights,
      clipBounds(loss),
    );
  }
  if (!moe) {
    const figures = {
      loss: value.ref,
      clipFraction,
      logprobs,
      auxLoss: np.zeros([]),
      loads: np.zeros([0]),
    };
    return [value, figures];
  }
  const { aux, loads } = routingBalance(routing, b.valid!, moe.topK, auxLossCoef);
  const stacked = loads.length > 0 ? np.stack(loads, 0) : np.zeros([0, moe.numExperts]);
  const total = value.ref.add(aux.ref.mul(b.auxScale!));
  return [total, { loss: value, clipFraction, logprobs, auxLoss: aux, loads: stacked }];
}
