/**
 * The GLM-V chat templates as plain string functions (model-spec.md §5; reward-spec-official.md §2.1;
 * model-spec-glm45v.md §4.1). Both start with `[gMASK]<sop>` and have no separator between turns.
 *
 * - "4.1v" (GLM-4.1V-Thinking): no thinking switch; the model always thinks. Past assistant turns keep only the
 *   answer (the official CLI stores the `<answer>` inner text as history).
 * - "4.5v" (GLM-4.5V): thinking switch. When off, `/nothink` is appended to each user message (unless its text
 *   already ends with it) and an empty `<think></think>\n` is pre-filled after the generation prompt. Past assistant
 *   turns carry `<think>{reasoning}</think>` only after the last user message (a tool loop), else an empty think.
 *   The whitespace follows the spec's GLM-4.5V-family copy (`<|assistant|>\n` + `<think></think>\n`); the hub file
 *   itself was not available to diff.
 */
import { GlmvError } from "../util/errors.ts";
import type { ResponseStyle } from "./domains.ts";
import { NOTHINK, SPECIAL_TOKENS as T } from "./special-tokens.ts";

/** One piece of a multimodal message. */
export type ContentItem = { type: "text"; text: string } | { type: "image" } | { type: "video" };

/** A chat message as plain data. `reasoningContent` is used by the 4.5V template for assistant turns. */
export type ChatMessage = {
  role: "system" | "user" | "assistant" | "observation";
  content: string | ContentItem[];
  reasoningContent?: string;
  /** 4.1V only: written right after `<|assistant|>` (tool/function metadata). */
  metadata?: string;
};

export type ChatStyle = ResponseStyle;

export type RenderChatOptions = {
  style: ChatStyle;
  /** 4.5V switch; ignored by 4.1V (which always thinks). Default true. */
  enableThinking?: boolean;
  /** Append the assistant prompt the model continues from. Default true. */
  addGenerationPrompt?: boolean;
};

const IMAGE_BLOCK = `${T.beginImage}${T.image}${T.endImage}`;
const VIDEO_BLOCK = `${T.beginVideo}${T.video}${T.endVideo}`;

/**
 * Render messages into the prompt text the model sees (placeholders not yet expanded: see `expandPlaceholders`).
 * @example
 * renderChat([{ role: "user", content: [{ type: "image" }, { type: "text", text: "Describe this image." }] }],
 *   { style: "4.1v" });
 * // "[gMASK]<sop><|user|>\n<|begin_of_image|><|image|><|end_of_image|>Describe this image.<|assistant|>\n"
 */
export function renderChat(messages: readonly ChatMessage[], opts: RenderChatOptions): string {
  const thinking = opts.enableThinking ?? true;
  const addPrompt = opts.addGenerationPrompt ?? true;
  let lastUser = -1;
  messages.forEach((m, i) => {
    if (m.role === "user") lastUser = i;
  });
  const parts: string[] = [`${T.gMask}${T.sop}`];
  messages.forEach((m, i) => {
    if (opts.style === "4.1v") parts.push(renderTurn41(m));
    else parts.push(renderTurn45(m, { thinking, afterLastUser: i > lastUser }));
  });
  if (addPrompt) {
    parts.push(`${T.assistant}\n`);
    if (opts.style === "4.5v" && !thinking) parts.push(`${T.thinkStart}${T.thinkEnd}\n`);
  }
  return parts.join("");
}

/** Concatenate content items with no separator: text as is, media as their placeholder blocks. */
export function renderContent(content: string | readonly ContentItem[]): string {
  if (typeof content === "string") return content;
  return content
    .map((item) => {
      if (item.type === "text") return item.text;
      if (item.type === "image") return IMAGE_BLOCK;
      if (item.type === "video") return VIDEO_BLOCK;
      throw new GlmvError("bad_input", `unknown content item type ${(item as { type: unknown }).type}`);
    })
    .join("");
}

/**
 * Split a raw assistant text into reasoning and visible content at `</think>` (leading newlines dropped).
 * @example
 * splitReasoning("<think>r</think>\n42"); // { reasoning: "r", content: "42" }
 */
export function splitReasoning(text: string): { reasoning: string; content: string } {
  let reasoning = "";
  let content = text;
  const end = text.indexOf(T.thinkEnd);
  if (end >= 0) {
    const before = text.slice(0, end);
    const start = before.lastIndexOf(T.thinkStart);
    reasoning = (start >= 0 ? before.slice(start + T.thinkStart.length) : before).replace(/^\n+/, "");
    content = text.slice(end + T.thinkEnd.length).replace(/^\n+/, "");
  }
  return { reasoning, content };
}

/**
 * The part of a GLM-4.1V reply kept in history: the `<answer>` inner text, or the text after `</think>`.
 * @example
 * answerForHistory("<think>r</think><answer>42</answer>"); // "42"
 */
export function answerForHistory(text: string): string {
  const { content } = splitReasoning(text);
  const answer = /<answer>([\s\S]*?)<\/answer>/.exec(content);
  return answer ? (answer[1] ?? "") : content;
}

function renderTurn41(m: ChatMessage): string {
  const text = renderContent(m.content);
  switch (m.role) {
    case "system":
      return `${T.system}\n${text}`;
    case "user":
      return `${T.user}\n${text}`;
    case "assistant":
      // History keeps only the answer: the thinking is never fed back (GLM-V README, trans_infer_cli.py).
      return `${T.assistant}${m.metadata ?? ""}\n${answerForHistory(text)}`;
    case "observation":
      return `${T.observation}\n${text}`;
  }
}

function renderTurn45(m: ChatMessage, ctx: { thinking: boolean; afterLastUser: boolean }): string {
  const text = renderContent(m.content);
  switch (m.role) {
    case "system":
      return `${T.system}\n${text}`;
    case "user": {
      const suffix = !ctx.thinking && !text.endsWith(NOTHINK) ? NOTHINK : "";
      return `${T.user}\n${text}${suffix}`;
    }
    case "assistant": {
      const split = splitReasoning(text);
      const reasoning = m.reasoningContent ?? split.reasoning;
      const content = split.content.trim();
      // Reasoning is replayed only inside an in-progress tool loop (after the last user turn).
      const think = ctx.afterLastUser && reasoning.trim() ? reasoning.trim() : "";
      return `${T.assistant}\n${T.thinkStart}${think}${T.thinkEnd}${content ? `\n${content}` : ""}`;
    }
    case "observation":
      return `${T.observation}\n<tool_response>\n${text}\n</tool_response>`;
  }
}
