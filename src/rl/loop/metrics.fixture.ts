/** Test fixture: the metrics record of RL step `step` as the trainer writes it (a held-out evaluation every 5). */
import type { StepMetrics } from "./trainer.ts";

export const metricsAt = (step: number): StepMetrics => ({
  step,
  reward: 0.4 + step / 100,
  accuracy: 0.4 + step / 100, // reward = accuracy: binary rewards without format penalties
  signalShare: 1,
  sampledSignalRate: 0.8,
  invalidRate: 0.2,
  ratioEma: 1.25,
  promptsSampled: 20,
  rounds: 1,
  rolloutsSampled: 160,
  rolloutsTotal: 160 * step,
  balance: 1.01,
  fill: 0.9,
  microSteps: 4,
  tokensPerSec: 1000,
  lr: 5e-4,
  loss: 0.1,
  clipFraction: 0,
  gradNorm: 1,
  difficultyHistogram: [1, 2, 3, 4, 5, 6, 7, 8, 9, step],
  familyAccuracy: { counting: 0.5 },
  timings: { gen: 1 },
  ...(step % 5 === 0 ? { heldout: { accuracy: 0.5 + step / 100, perFamily: {}, items: 512 } } : {}),
});
