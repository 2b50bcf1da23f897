/**
 * A small typed wrapper over `@huggingface/tokenizers` for GLM-V: load a Hugging Face `tokenizer.json`, encode
 * text with special tokens recognised (never adding any itself: the chat template writes `[gMASK]<sop>`), decode
 * with or without special tokens, and resolve the GLM special-token ids.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { GlmvError } from "../util/errors.ts";
import { resolveSpecialTokenIds, type SpecialTokenIds } from "./special-tokens.ts";
import { TINY_TOKENIZER_PATH } from "./tiny-tokenizer.ts";

/** A loaded tokenizer. All methods are pure functions of the loaded vocabulary. */
export type GlmvTokenizer = {
  /** Token ids of `text`; special-token strings in the text become their single ids. */
  encode(text: string): number[];
  /** Text of `ids`; with `skipSpecial` the tokens flagged special in tokenizer.json are dropped. */
  decode(ids: readonly number[], opts?: { skipSpecial?: boolean }): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Ids of every GLM special token (throws at load time if one is missing). */
  readonly special: SpecialTokenIds;
  /** Largest id + 1. */
  readonly vocabSize: number;
};

/**
 * Build a tokenizer from a parsed `tokenizer.json` (and optionally `tokenizer_config.json`).
 * Throws `tokenizer_error` if the JSON is not a usable tokenizer or lacks a GLM special token.
 * @example
 * const tok = createTokenizer(JSON.parse(await readFile("tokenizer.json", "utf8")));
 * tok.encode("<|user|>\nhi"); // [special.user, ...ids of "\nhi"]
 */
export function createTokenizer(
  tokenizerJson: unknown,
  tokenizerConfig: Record<string, unknown> = {},
): GlmvTokenizer {
  let inner: Tokenizer;
  try {
    // Never clean up spaces on decode (" ." must survive a round trip); GLM's own config also sets it false.
    inner = new Tokenizer(tokenizerJson as object, {
      clean_up_tokenization_spaces: false,
      ...tokenizerConfig,
    });
  } catch (e) {
    throw new GlmvError("tokenizer_error", `not a usable tokenizer.json: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const special = resolveSpecialTokenIds((t) => inner.token_to_id(t));
  let vocabSize = 0; // a loop, not Math.max(...ids): 151k arguments overflow the call stack
  for (const id of inner.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);
  return {
    encode: (text) => (text.length === 0 ? [] : inner.encode(text, { add_special_tokens: false }).ids),
    decode(ids, opts = {}) {
      if (ids.length === 0) return "";
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new GlmvError("tokenizer_error", `token id ${id} outside the vocabulary (size ${vocabSize})`);
        }
      }
      return inner.decode([...ids], { skip_special_tokens: opts.skipSpecial ?? false });
    },
    tokenToId: (token) => inner.token_to_id(token),
    idToToken: (id) => inner.id_to_token(id),
    special,
    vocabSize,
  };
}

/**
 * Load `tokenizer.json` (and `tokenizer_config.json` when present) from a checkpoint folder.
 * @example
 * const tok = await loadTokenizerDir("/models/GLM-4.1V-9B-Thinking");
 */
export async function loadTokenizerDir(dir: string): Promise<GlmvTokenizer> {
  const json = await readJson(join(dir, "tokenizer.json"), true);
  const config = await readJson(join(dir, "tokenizer_config.json"), false);
  // Only the fields the JS tokenizer reads; the rest of tokenizer_config (chat_template, …) is not needed here.
  const picked: Record<string, unknown> = {};
  if (config && typeof config === "object" && "clean_up_tokenization_spaces" in config) {
    picked.clean_up_tokenization_spaces = (config as Record<string, unknown>).clean_up_tokenization_spaces;
  }
  return createTokenizer(json, picked);
}

/**
 * The tiny character-level tokenizer that ships with glmv (`assets/tiny-tokenizer.json`).
 * @example
 * const tok = await loadTinyTokenizer(); tok.decode(tok.encode("a+b=3")) === "a+b=3";
 */
export async function loadTinyTokenizer(): Promise<GlmvTokenizer> {
  return createTokenizer(await readJson(TINY_TOKENIZER_PATH, true));
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if (!required) return undefined;
    throw new GlmvError("not_found", "cannot read tokenizer file", { where: path, cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GlmvError("tokenizer_error", "tokenizer file is not valid JSON", { where: path, cause: e });
  }
}
