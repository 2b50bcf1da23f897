/**
 * One entry point for the rl CLI to build its policy from `--policy local | tinker | openai`. The local policy is
 * built by the caller (it owns the model and checkpoint loading) and passed in; tinker and openai are remote.
 */
import { type GlmvTokenizer, loadTinyTokenizer, loadTokenizerDir } from "../../model/tokenizer.ts";
import { GlmvError } from "../../util/errors.ts";
import {
  type OpenAIEngineConfig,
  OpenAIRolloutEngine,
  rolloutOnlyPolicy,
} from "../engines/openai/openai-engine.ts";
import { TinkerClient } from "../engines/tinker/tinker-client.ts";
import { TinkerPolicy, type TinkerPolicyOptions } from "../engines/tinker/tinker-policy.ts";
import { glmImageTokens } from "../engines/tinker/tinker-prompt.ts";
import type { Policy } from "../loop/policy.ts";

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

/** What a user says about a remote policy (the `glmv rl` options); `remotePolicySpec` turns it into a spec. */
export type RemotePolicyOptions = {
  kind: "tinker" | "openai";
  url: string;
  /** tinker: the model to train (default: the first the server lists); openai: the served model name. */
  baseModel?: string | undefined;
  apiKey?: string | undefined;
  loraRank?: number | undefined;
  lossFn?: "ppo" | "importance_sampling" | undefined;
  /** A tokenizer folder; default glmv's tiny tokenizer (what `glmv serve trainer` uses). */
  tokenizerDir?: string | undefined;
  /**
   * Image placeholder counts: "preset" (default) leaves them to the engine (glmv's model preset, what `glmv serve
   * trainer` computes); "glm" is GLM-V's own processor (smart resize), for a real GLM-4.1V/4.5V behind the API.
   */
  imageTokens?: "preset" | "glm" | undefined;
};

/**
 * The policy spec of remote options: loads the tokenizer, and for a Tinker trainer without `baseModel` asks the
 * server which models it serves and takes the first.
 * @example const spec = await remotePolicySpec({ kind: "tinker", url: "http://127.0.0.1:8000" });
 */
export async function remotePolicySpec(
  opts: RemotePolicyOptions,
): Promise<Exclude<PolicySpec, { kind: "local" }>> {
  const key = opts.apiKey ? { apiKey: opts.apiKey } : {};
  if (opts.kind === "openai") {
    if (!opts.baseModel)
      throw new GlmvError("bad_argument", "an OpenAI-compatible policy needs a model name");
    return { kind: "openai", url: opts.url, model: opts.baseModel, ...key };
  }
  const tokenizer = opts.tokenizerDir ? await loadTokenizerDir(opts.tokenizerDir) : await loadTinyTokenizer();
  let baseModel = opts.baseModel;
  if (!baseModel) {
    const client = new TinkerClient({ url: opts.url, ...key });
    const served = (await client.capabilities()).supported_models;
    baseModel = served[0]?.model_name;
    if (!baseModel)
      throw new GlmvError("engine_error", `the trainer at ${opts.url} lists no models; pass --base-model`);
  }
  return {
    kind: "tinker",
    url: opts.url,
    ...key,
    tokenizer,
    baseModel,
    options: {
      ...(opts.loraRank === undefined ? {} : { loraRank: opts.loraRank }),
      ...(opts.lossFn === undefined ? {} : { lossFn: opts.lossFn }),
      ...(opts.imageTokens === "glm" ? { imageTokens: glmImageTokens } : {}),
    },
  };
}

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
