/**
 * Hybrid-thinking SFT data for the GLM-4.5V-style model (model-spec-glm45v §4.1): one set of task items, each
 * rendered in one of the two modes, so a model learns the switch.
 * - thinking on: the 4.5V template as is; the response is `<think>{cot}</think><|begin_of_box|>X<|end_of_box|>`
 *   (4.5V style: no `<answer>` tags).
 * - thinking off: the template appends `/nothink` to the user turn and pre-fills an empty `<think></think>\n`
 *   after `<|assistant|>\n`; the response is only the boxed answer.
 * The loss mask covers the response (and its `<|endoftext|>`), never the prompt or the pre-filled empty think.
 */
import type { ChatMessage } from "../model/chat-template.ts";
import { renderChat } from "../model/chat-template.ts";
import {
  concatFloat32,
  type EncodedExample,
  type Encoder,
  encodeResponse,
  processImageFor,
} from "../model/encode.ts";
import { SPECIAL_TOKENS } from "../model/special-tokens.ts";
import { expandPlaceholders } from "../model/video.ts";
import { createRng } from "../util/rng.ts";
import { promptFromItem } from "./task-encoding.ts";
import type { TaskItem } from "./tasks/types.ts";

/** The two sides of the 4.5V thinking switch. */
export type ThinkingMode = "think" | "nothink";

/** One hybrid SFT item: a task item and the mode it is taught in. */
export type HybridSftItem = { item: TaskItem; mode: ThinkingMode };

/**
 * The assistant text the model must produce after the generation prompt (after the pre-filled empty think when
 * thinking is off).
 * @example hybridResponse(item, "think")   // "<think>3+4=7</think><|begin_of_box|>7<|end_of_box|>"
 * @example hybridResponse(item, "nothink") // "<|begin_of_box|>7<|end_of_box|>"
 */
export function hybridResponse(item: Pick<TaskItem, "cot" | "responseAnswer">, mode: ThinkingMode): string {
  const t = SPECIAL_TOKENS;
  const boxed = `${t.beginBox}${item.responseAnswer}${t.endBox}`;
  return mode === "think" ? `${t.thinkStart}${item.cot}${t.thinkEnd}${boxed}` : boxed;
}

/**
 * Assign modes to items: exactly ⌊n·noThinkFraction⌉ of them (chosen by a seeded shuffle) are taught without
 * thinking, the rest with it. Pure and deterministic in (items, options).
 * @example hybridThinkingMix(items, { noThinkFraction: 0.5, seed: 1 }).filter((x) => x.mode === "nothink").length
 */
export function hybridThinkingMix(
  items: readonly TaskItem[],
  opts: { noThinkFraction?: number; seed?: number } = {},
): HybridSftItem[] {
  const fraction = opts.noThinkFraction ?? 0.5;
  const rng = createRng(opts.seed ?? 0);
  const order = items.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const off = new Set(order.slice(0, Math.round(items.length * fraction)));
  return items.map((item, i) => ({ item, mode: off.has(i) ? "nothink" : "think" }));
}

/**
 * The prompt text of a hybrid item: the 4.5V template with `enableThinking` set by the mode (placeholders not
 * yet expanded).
 */
export function hybridPromptText(x: HybridSftItem): string {
  const messages: ChatMessage[] = promptFromItem(x.item).messages;
  return renderChat(messages, { style: "4.5v", enableThinking: x.mode === "think" });
}

/**
 * A teacher-forcing example: prompt ids (4.5V template in the item's mode, image placeholders expanded), then the
 * response and `<|endoftext|>`; loss mask 1 on the response only.
 * @example const ex = encodeHybridExample(enc, { item, mode: "nothink" }); // prompt ends "<think></think>\n"
 */
export function encodeHybridExample(enc: Encoder, x: HybridSftItem): EncodedExample {
  const prompt = promptFromItem(x.item);
  const processed = prompt.images.map((img) => processImageFor(enc.cfg, img));
  const grids = processed.map((p) => p.grid);
  const promptIds = expandPlaceholders(enc.tok.encode(hybridPromptText(x)), { images: grids }, enc.tok);
  const response = encodeResponse(enc, hybridResponse(x.item, x.mode));
  return {
    ids: [...promptIds, ...response],
    pixels: concatFloat32(processed.map((p) => p.pixels)),
    grids,
    lossMask: [...promptIds.map(() => 0), ...response.map(() => 1)],
    promptTokens: promptIds.length,
  };
}
