/**
 * Test support for the generator tests (generate.test.ts, test/tensor/native-generate.test.ts): two-row chat
 * prompts of the tiny tokenizer, text only and with one 4×4-patch image in the first row, and the think-end and
 * answer-start ids force-answering injects.
 */
import { mulberry32 } from "../util/rng.ts";
import type { GenerateInputs } from "./generate.ts";
import { loadTinyTokenizer } from "./tokenizer.ts";

export type GenerateBatches = {
  textBatch: GenerateInputs;
  imageBatch: GenerateInputs;
  thinkEnd: number;
  answerStart: number;
};

/** The two test batches and the force-answering ids (the image's pixels seeded, so every call is the same). */
export async function generateBatches(): Promise<GenerateBatches> {
  const tok = await loadTinyTokenizer();
  const s = tok.special;
  const chat = (text: string, image: boolean) => [
    s.gMask,
    s.sop,
    s.user,
    ...tok.encode("\n"),
    ...(image ? [s.beginImage, s.image, s.image, s.image, s.image, s.endImage] : []),
    ...tok.encode(text),
    s.assistant,
    ...tok.encode("\n"),
  ];
  const rand = mulberry32(9);
  return {
    textBatch: { prompts: [chat("What is 2+2?", false), chat("Hi", false)] },
    imageBatch: {
      prompts: [chat("Count.", true), chat("No image here", false)],
      imageGridThw: [[1, 4, 4]],
      pixels: Float32Array.from({ length: 16 * 1176 }, () => rand() * 2 - 1),
    },
    thinkEnd: s.thinkEnd,
    answerStart: s.answerStart,
  };
}
