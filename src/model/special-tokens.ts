/**
 * The GLM-V special tokens: their strings, the ids known from the GLM-4.1V / GLM-4.5V configs, and a resolver that
 * reads the ids from any tokenizer (the real ids of `<think>`, `<answer>` and the box tokens are only in
 * tokenizer.json, so they are never hard-coded here). model-spec.md §4.6, model-spec-glm45v.md §4.2.
 */
import { GlmvError } from "../util/errors.ts";

/** Every special token glmv relies on, by a short name. `/nothink` is plain text, not a special token. */
export const SPECIAL_TOKENS = {
  endOfText: "<|endoftext|>",
  gMask: "[gMASK]",
  sop: "<sop>",
  system: "<|system|>",
  user: "<|user|>",
  assistant: "<|assistant|>",
  observation: "<|observation|>",
  beginImage: "<|begin_of_image|>",
  endImage: "<|end_of_image|>",
  beginVideo: "<|begin_of_video|>",
  endVideo: "<|end_of_video|>",
  image: "<|image|>",
  video: "<|video|>",
  thinkStart: "<think>",
  thinkEnd: "</think>",
  answerStart: "<answer>",
  answerEnd: "</answer>",
  beginBox: "<|begin_of_box|>",
  endBox: "<|end_of_box|>",
} as const;

export type SpecialTokenName = keyof typeof SPECIAL_TOKENS;
/** Token id per special-token name. */
export type SpecialTokenIds = Record<SpecialTokenName, number>;

/** The literal a user message ends with when GLM-4.5V thinking is switched off (plain text). */
export const NOTHINK = "/nothink";

/**
 * Ids confirmed by the GLM-4.1V config / GLM-4 tokenizer (model-spec.md §4.6). The think/answer/box ids are not
 * confirmed and are therefore absent: read them with `resolveSpecialTokenIds`.
 */
export const GLM41V_KNOWN_IDS = {
  endOfText: 151329,
  gMask: 151331,
  sop: 151333,
  system: 151335,
  user: 151336,
  assistant: 151337,
  observation: 151338,
  beginImage: 151339,
  endImage: 151340,
  beginVideo: 151341,
  endVideo: 151342,
  image: 151343,
  video: 151344,
} as const satisfies Partial<SpecialTokenIds>;

/** GLM-4.5V differs only in the `<|image|>` / `<|video|>` ids (model-spec-glm45v.md §1.2). */
export const GLM45V_KNOWN_IDS = { ...GLM41V_KNOWN_IDS, image: 151363, video: 151364 } as const;

/**
 * Look up every special token's id with `tokenToId` (e.g. a tokenizer's vocabulary lookup).
 * Throws `tokenizer_error` listing every token the tokenizer does not know.
 * @example
 * const ids = resolveSpecialTokenIds((t) => vocab.get(t)); // ids.image === 107 for the tiny tokenizer
 */
export function resolveSpecialTokenIds(tokenToId: (token: string) => number | undefined): SpecialTokenIds {
  const missing: string[] = [];
  const ids: Partial<SpecialTokenIds> = {};
  for (const [name, token] of Object.entries(SPECIAL_TOKENS) as [SpecialTokenName, string][]) {
    const id = tokenToId(token);
    if (id === undefined) missing.push(token);
    else ids[name] = id;
  }
  if (missing.length > 0) {
    throw new GlmvError("tokenizer_error", `tokenizer lacks special tokens: ${missing.join(", ")}`, {
      where: "special tokens",
    });
  }
  return ids as SpecialTokenIds;
}
