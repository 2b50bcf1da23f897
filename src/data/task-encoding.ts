/**
 * Synthetic task items as model input: an item's chat prompt (image first, then the question) and its SFT
 * teacher-forcing example (prompt, then `sftTarget` and `<|endoftext|>`, loss on the response only).
 */
import type { ResponseStyle } from "../model/domains.ts";
import {
  type ChatPrompt,
  type EncodedExample,
  type Encoder,
  encodePrompt,
  encodeResponse,
} from "../model/encode.ts";
import { sftTarget } from "./tasks/cot.ts";
import type { TaskItem } from "./tasks/types.ts";

/**
 * The prompt of a synthetic task item: one user turn with the image first, then the question.
 * @example const p = promptFromItem(item); p.messages[0].content // [{type:"image"},{type:"text",text:"how many dots?"}]
 */
export function promptFromItem(item: Pick<TaskItem, "id" | "image" | "question">): ChatPrompt {
  const { width, height, data } = item.image;
  return {
    id: item.id,
    messages: [
      {
        role: "user",
        content: [{ type: "image" }, { type: "text", text: item.question }],
      },
    ],
    images: [{ data, width, height, channels: 3 }],
  };
}

/**
 * A teacher-forcing example for `item`: the prompt, then `sftTarget(item, style)` and `<|endoftext|>`; the loss
 * mask is 1 exactly on the response tokens (prompt tokens carry no loss).
 * @example const ex = encodeSftExample(enc, item, "4.1v"); ex.lossMask.filter(Boolean).length // response length
 */
export function encodeSftExample(enc: Encoder, item: TaskItem, style: ResponseStyle): EncodedExample {
  const prompt = encodePrompt(enc, promptFromItem(item));
  const response = encodeResponse(enc, sftTarget(item, style));
  return {
    ...prompt,
    ids: [...prompt.ids, ...response],
    lossMask: [...prompt.ids.map(() => 0), ...response.map(() => 1)],
    promptTokens: prompt.ids.length,
  };
}
