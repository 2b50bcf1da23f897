/**
 * glmv's own tiny tokenizer, for the tiny model preset (vocab_size 256): one id per character of printable ASCII
 * plus newline, every GLM special token as a single id, and `<unk>` for anything else. It is an ordinary Hugging Face
 * `tokenizer.json` (a BPE model with no merges, so every character stays its own token, and a `Fuse` decoder), so
 * the same loader reads it and the real GLM tokenizer.
 *
 * The committed asset `assets/tiny-tokenizer.json` is exactly `JSON.stringify(buildTinyTokenizerJson(), null, 2)`;
 * a test keeps the two equal. Regenerate with `writeTinyTokenizerAsset()`.
 */
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../util/fs.ts";
import { SPECIAL_TOKENS } from "./special-tokens.ts";

/** Where the committed tiny tokenizer lives. */
export const TINY_TOKENIZER_PATH = fileURLToPath(new URL("./assets/tiny-tokenizer.json", import.meta.url));

/** Newline first, then printable ASCII 0x20..0x7E: ids 0..95. */
export const TINY_CHARACTERS: readonly string[] = [
  "\n",
  ...Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)),
];

/** Special tokens follow the characters, in GLM's own order; `<unk>` comes last. */
const TINY_SPECIAL_ORDER = [
  SPECIAL_TOKENS.endOfText,
  SPECIAL_TOKENS.gMask,
  SPECIAL_TOKENS.sop,
  SPECIAL_TOKENS.system,
  SPECIAL_TOKENS.user,
  SPECIAL_TOKENS.assistant,
  SPECIAL_TOKENS.observation,
  SPECIAL_TOKENS.beginImage,
  SPECIAL_TOKENS.endImage,
  SPECIAL_TOKENS.beginVideo,
  SPECIAL_TOKENS.endVideo,
  SPECIAL_TOKENS.image,
  SPECIAL_TOKENS.video,
  SPECIAL_TOKENS.thinkStart,
  SPECIAL_TOKENS.thinkEnd,
  SPECIAL_TOKENS.answerStart,
  SPECIAL_TOKENS.answerEnd,
  SPECIAL_TOKENS.beginBox,
  SPECIAL_TOKENS.endBox,
  "<unk>",
] as const;

/** Total number of ids the tiny tokenizer uses (116); the tiny model pads its vocab to 256. */
export const TINY_VOCAB_USED = TINY_CHARACTERS.length + TINY_SPECIAL_ORDER.length;

/** Id of each tiny special token, e.g. `TINY_TOKEN_IDS["<|image|>"] === 107`. */
export const TINY_TOKEN_IDS: Readonly<Record<(typeof TINY_SPECIAL_ORDER)[number], number>> =
  Object.fromEntries(TINY_SPECIAL_ORDER.map((t, i) => [t, TINY_CHARACTERS.length + i])) as Record<
    (typeof TINY_SPECIAL_ORDER)[number],
    number
  >;

/** The JSON shape written (a subset of the Hugging Face `tokenizer.json` schema). */
export type TinyTokenizerJson = ReturnType<typeof buildTinyTokenizerJson>;

/**
 * Build the tiny `tokenizer.json` object. Pure and deterministic.
 * @example
 * const json = buildTinyTokenizerJson(); // json.model.vocab["a"] === 66
 */
export function buildTinyTokenizerJson() {
  const vocab: Record<string, number> = {};
  TINY_CHARACTERS.forEach((c, i) => {
    vocab[c] = i;
  });
  const addedTokens = TINY_SPECIAL_ORDER.map((content, i) => {
    const id = TINY_CHARACTERS.length + i;
    vocab[content] = id;
    return {
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    };
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: "Fuse" },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [] as string[],
    },
  };
}

/** The exact text of the committed asset. */
export function tinyTokenizerJsonText(): string {
  return `${JSON.stringify(buildTinyTokenizerJson(), null, 2)}\n`;
}

/** Regenerate `assets/tiny-tokenizer.json` (run once after changing the builder, then commit the file). */
export async function writeTinyTokenizerAsset(path: string = TINY_TOKENIZER_PATH): Promise<void> {
  await writeFileAtomic(path, tinyTokenizerJsonText());
}
