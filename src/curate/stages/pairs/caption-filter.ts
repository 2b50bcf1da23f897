/**
 * `caption-filter`: caption length and language (paper §3.1). Words are runs of letters or digits, and each Han,
 * kana or Hangul character counts as one word (Chinese has no spaces). The language is franc's guess (ISO 639-3:
 * `eng`, `cmn`, …), asked only of captions with enough words for a guess to mean something; shorter ones pass.
 */
import { franc } from "franc-min";
import { z } from "zod";
import { drop, keep, type StageDef } from "../../stage.ts";
import { textField, withFields } from "./common.ts";

export const CaptionFilterOptions = z.strictObject({
  /** The field holding the caption. */
  field: z.string().default("caption"),
  minWords: z.number().int().min(0).default(3),
  maxWords: z.number().int().min(1).default(512),
  minChars: z.number().int().min(0).default(0),
  maxChars: z.number().int().min(1).default(4096),
  /** Accepted languages as ISO 639-3 codes; empty accepts any. */
  languages: z.array(z.string().regex(/^[a-z]{3}$/)).default(["eng", "cmn"]),
  /** Captions with fewer words than this skip the language check (franc guesses poorly on short text). */
  languageMinWords: z.number().int().min(1).default(6),
});
export type CaptionFilterOptions = z.infer<typeof CaptionFilterOptions>;

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;

/**
 * Words in a text: letter/digit runs outside CJK, plus one per CJK character.
 * @example
 * countWords("a red 方块") // 4
 */
export function countWords(text: string): number {
  const cjk = text.match(CJK)?.length ?? 0;
  const rest = text.replace(CJK, " ").match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
  return cjk + rest;
}

export const captionFilter: StageDef<CaptionFilterOptions> = {
  name: "caption-filter",
  summary: "drop captions out of word/character bounds or not in the accepted languages (franc)",
  options: CaptionFilterOptions,
  async open(o) {
    return {
      async process(item) {
        const caption = textField(item, o.field).trim();
        const words = countWords(caption);
        const chars = [...caption].length;
        if (words < o.minWords || chars < o.minChars)
          return drop("caption_short", `${words} words, ${chars} characters: "${caption.slice(0, 80)}"`);
        if (words > o.maxWords || chars > o.maxChars)
          return drop("caption_long", `${words} words, ${chars} characters`);
        if (o.languages.length === 0 || words < o.languageMinWords) return keep(item);
        const language = franc(caption, { minLength: 1 });
        if (!o.languages.includes(language))
          return drop(
            "caption_language",
            `${language === "und" ? "undetermined" : language}: "${caption.slice(0, 80)}"`,
          );
        return keep(withFields(item, { language }));
      },
    };
  },
};
