/**
 * One entry point for the rl CLI to build its policy from `--policy local | tinker | openai`. The local policy is
 * built by the caller (it owns the model and checkpoint loading) and passed in; tinker and openai are remote.
 */
import type { GlmvTokenizer } from "../model/tokenizer.ts";
import { GlmvError } from "../util/errors.ts";
import { type OpenAIEngineConfig, OpenAIRolloutEngine, rolloutOnlyPolicy } from "./openai-engine.ts";
import type { Policy } from "./policy.ts";
import { TinkerClient } from "./tinker-client.ts";
import { TinkerPolicy, type TinkerPolicyOptions } from "./tinker-policy.ts";

export type PolicySpec =
  | { kind: "local"; create: () => Promise<Policy> | Policy }
  | {
      kind: "tinker";
      url: string;
      apiKey?: string;
      tokenizer: Pick<GlmvTokenizer, "encode" | "decode" | "special">;
      baseModel: string;
      options?: Omit<TinkerPolicyOptions, "client" | "tokenizer" | "baseModel">;
    }
  | ({ kind: "openai"; url: string } & Omit<OpenAIEngineConfig, "baseUrl">);

/**
 * Build the policy a spec names. `openai` is rollout-only: its `update` throws `engine_error`.
 * @example
 * const policy = await createPolicy({ kind: "tinker", url: "http://localhost:8000", tokenizer, baseModel: "glmv-bigram" });
 */
export async function createPolicy(spec: PolicySpec): Promise<Policy> {
  switch (spec.kind) {
    case "local":
      return spec.create();
    case "tinker": {
      const client = new TinkerClient({ url: spec.url, ...(spec.apiKey ? { apiKey: spec.apiKey } : {}) });
      return TinkerPolicy.create({
        ...spec.options,
        client,
        tokenizer: spec.tokenizer,
        baseModel: spec.baseModel,
      });
    }
    case "openai": {
      const { kind: _, url, ...rest } = spec;
      return rolloutOnlyPolicy(new OpenAIRolloutEngine({ ...rest, baseUrl: url }));
    }
    default:
      throw new GlmvError("bad_config", `unknown policy kind ${(spec as { kind: unknown }).kind}`);
  }
}
