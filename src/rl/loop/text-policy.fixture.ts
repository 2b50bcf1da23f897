/**
 * Test support: a `Policy` whose one rollout per prompt is whatever text `answer` gives for it, recording every
 * `generate` call. For tests of evaluation and scoring, which only read rollout texts.
 */
import type { Policy, PolicyPrompt, RolloutParams } from "./policy.ts";

export type TextPolicyCall = { prompts: readonly PolicyPrompt[]; params: RolloutParams };

export function textPolicy(answer: (prompt: PolicyPrompt, params: RolloutParams) => string): {
  policy: Policy;
  calls: TextPolicyCall[];
} {
  const calls: TextPolicyCall[] = [];
  const policy: Policy = {
    async generate(prompts, params) {
      calls.push({ prompts, params });
      return prompts.map((p) => [
        {
          promptId: p.id,
          tokens: [],
          logprobs: [],
          injected: [],
          text: answer(p, params),
          finished: true,
          promptTokens: 0,
        },
      ]);
    },
    update: () => Promise.reject(new Error("not used")),
    save: () => Promise.resolve(),
    load: () => Promise.resolve(),
    dispose: () => {},
  };
  return { policy, calls };
}
