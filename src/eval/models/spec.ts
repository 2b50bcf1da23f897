/**
 * `--model SPEC` (and `--judge SPEC`): which model answers. `openai:URL[#model]` is any OpenAI-compatible server
 * (without `#model`, the first one it lists), `local:CHECKPOINT_DIR` a glmv checkpoint run in this process, and
 * `tinker:URL` the sampler of a Tinker-API trainer (built by the CLI layer: eval does not import the rl code).
 */
import { GlmvError } from "../../util/errors.ts";
import type { ModelClient } from "../model-client.ts";
import { firstServedModel, type OpenAIClientConfig, OpenAIModelClient } from "./openai.ts";

export type ModelSpec =
  | { kind: "openai"; baseUrl: string; model?: string }
  | { kind: "local"; dir: string }
  | { kind: "tinker"; url: string; model?: string };

const KINDS = "openai:URL[#model], local:CHECKPOINT_DIR or tinker:URL[#model]";

function httpUrl(text: string, spec: string, where: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GlmvError("bad_argument", `'${spec}': '${text}' is not a URL`, { where });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new GlmvError("bad_argument", `'${spec}': the URL must be http(s), got '${url.protocol}'`, {
      where,
    });
  return text.replace(/\/+$/, "");
}

/** `URL#name` → the URL and the name after the last `#` (URLs of model servers have no fragment). */
function splitModel(rest: string): { url: string; model?: string } {
  const hash = rest.lastIndexOf("#");
  if (hash < 0) return { url: rest };
  const model = rest.slice(hash + 1);
  return model === "" ? { url: rest.slice(0, hash) } : { url: rest.slice(0, hash), model };
}

/**
 * Parse a model spec; anything else is `bad_argument` naming the accepted forms.
 * @example parseModelSpec("openai:http://localhost:8000/v1#glm-4.1v")
 * // { kind: "openai", baseUrl: "http://localhost:8000/v1", model: "glm-4.1v" }
 */
export function parseModelSpec(spec: string, where = "--model"): ModelSpec {
  const colon = spec.indexOf(":");
  const kind = colon < 0 ? "" : spec.slice(0, colon);
  const rest = colon < 0 ? "" : spec.slice(colon + 1);
  if (kind === "openai" || kind === "tinker") {
    const { url, model } = splitModel(rest);
    const checked = httpUrl(url, spec, where);
    if (kind === "openai") return { kind, baseUrl: checked, ...(model ? { model } : {}) };
    return { kind, url: checked, ...(model ? { model } : {}) };
  }
  if (kind === "local") {
    if (rest.trim() === "")
      throw new GlmvError("bad_argument", `'${spec}': local: needs a checkpoint folder`, { where });
    return { kind, dir: rest };
  }
  throw new GlmvError("bad_argument", `'${spec}' is not a model spec (expected ${KINDS})`, { where });
}

/** Options for the clients built here (an openai client's settings besides its URL and model). */
export type ClientOptions = Omit<OpenAIClientConfig, "baseUrl" | "model">;

/**
 * The client of an `openai:` or `local:` spec. A `tinker:` spec is built by the CLI (`src/cli/eval-run.ts`), so
 * here it is a `bad_argument`.
 * @example const client = await createModelClient(parseModelSpec("openai:http://localhost:8000/v1"), {});
 */
export async function createModelClient(spec: ModelSpec, opts: ClientOptions = {}): Promise<ModelClient> {
  if (spec.kind === "openai") {
    const model = spec.model ?? (await firstServedModel(spec.baseUrl, opts.apiKey));
    return new OpenAIModelClient({ ...opts, baseUrl: spec.baseUrl, model });
  }
  if (spec.kind === "local") {
    // the in-process model loads the tensor engine: only a local: run pays for it
    const { createLocalModel } = await import("./local.ts");
    // the run's settings reach the in-process model too; its pixel cap counts t̄·h̄·w̄ with t̄ = 2 (the processor's unit)
    return await createLocalModel(spec.dir, {
      ...(opts.style ? { style: opts.style } : {}),
      ...(opts.maxPixels ? { maxPixels: opts.maxPixels * 2 } : {}),
      ...(opts.forceAnswerTokens !== undefined ? { answerTokens: opts.forceAnswerTokens } : {}),
    });
  }
  throw new GlmvError("bad_argument", `a ${spec.kind}: model is built by the command line, not here`, {
    where: "--model",
  });
}
