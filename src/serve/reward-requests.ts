/**
 * The reward server's request dialects, as pure functions: OpenRLHF's `{query[], prompts[], labels[]}`, slime's
 * one-sample `{prompt, response, label}` (`--rm-type remote_rm`) and glmv's `{items[]}` become `ScoreInput`s; responses decoded with special tokens kept (OpenRLHF) or stripped (verl's
 * `skip_special_tokens=True`) are brought to the shape the format gate expects.
 *
 * Stripped text, what glmv does: when `<think>`/`</think>` survive (they are not special in the tokenizer), the text
 * is gated exactly like kept text. When they are gone, the reasoning cannot be told from the answer any more, so
 * glmv takes the last non-empty line as the answer and everything above it as the reasoning; a `\boxed{…}` or box
 * tokens on that line are the box, otherwise the whole line is. The rebuilt response then goes through the same gate,
 * anti-hacking and verifier, so hedges ("3 or 4"), several boxes and empty answers still score 0; what the gate can
 * no longer check is the tag structure itself. When the think/answer tags survive but the box tokens did not (they
 * are special, the tags are not), the answer region's last line becomes the box. Results of rebuilt responses carry
 * `rebuilt: true`. Items with another `answerFormat` ("gsm8k", "boxed") have their own shape and pass as written.
 *
 * Thinking off (GLM-4.5V/4.6V non-thinking mode, the run's or the request's `thinking: false`): the prompt pre-filled
 * an empty `<think></think>`, which OpenRLHF's prompt cut and OpenAI-style content both lose. It is put back in front
 * of a response without think tags (kept text), and stripped text without tags is all answer (no reasoning above it):
 * its box, or else its last line boxed.
 */
import { z } from "zod";
import { STYLES } from "../model/domains.ts";
import { SPECIAL_TOKENS } from "../model/special-tokens.ts";
import { prefillEmptyThink } from "../reward/format.ts";
import { ScoreInputSchema, scoreInputError } from "../reward/item-schema.ts";
import type { ScoreInput } from "../reward/system.ts";
import { GlmvError } from "../util/errors.ts";
import { parseOrThrow } from "../util/zod-error.ts";

/** How responses reach the server: decoded with special tokens kept (OpenRLHF) or stripped (verl). */
export const SPECIAL_TOKEN_MODES = ["kept", "stripped"] as const;
export type SpecialTokenMode = (typeof SPECIAL_TOKEN_MODES)[number];

const {
  assistant: ASSISTANT,
  beginBox: BOX_OPEN,
  endBox: BOX_CLOSE,
  thinkStart: THINK_OPEN,
  thinkEnd: THINK_CLOSE,
  answerStart: ANSWER_OPEN,
  answerEnd: ANSWER_CLOSE,
} = SPECIAL_TOKENS;

/**
 * A request body parsed with `schema`, or a `bad_input` error naming the field (`labels.3.domain`) in the one
 * wording of zod errors (`util/zod-error.ts`).
 * @example parseBody(ScoreBody, { items: [] }) // throws "items must be a list of at least 1 item, got []"
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, prefix?: string): z.output<S> {
  return parseOrThrow(schema, body, "bad_input", { prefix });
}

/** OpenRLHF `POST /get_reward` body. Labels are dataset labels: a JSON string or an object (see README). */
export const GetRewardBody = z.object({
  query: z.array(z.string()).min(1),
  prompts: z.array(z.string()).optional(),
  labels: z.array(z.union([z.string(), z.record(z.string(), z.unknown())])),
});
export type GetRewardBody = z.infer<typeof GetRewardBody>;

/** Longest slime label in characters: a label is a domain, an answer and perhaps options, never megabytes. */
export const MAX_LABEL_CHARS = 64 * 1024;

/**
 * slime's `remote_rm` body (`slime/rollout/rm_hub/__init__.py`): one sample per request, no image, no metadata.
 * `prompt` is the sample's prompt (text or OpenAI messages); `label` carries the domain and answer, as for OpenRLHF.
 */
export const SlimeRewardBody = z.object({
  prompt: z
    .union([z.string(), z.array(z.record(z.string(), z.unknown()))], {
      error: "a string or a list of chat messages",
    })
    .nullish(),
  response: z.string(),
  label: z.union([z.string(), z.record(z.string(), z.unknown())], {
    error: 'a JSON string or an object like {"domain":"math","answer":"4"}',
  }),
});
export type SlimeRewardBody = z.infer<typeof SlimeRewardBody>;

/**
 * Which dialect a `POST /get_reward` body speaks: slime's one sample (a `response` and no `query`) or OpenRLHF's
 * batch (everything else, so a body that is neither is answered in OpenRLHF's words, naming `query`).
 * @example getRewardDialect({ prompt: "p", response: "r", label: "{}" }) // "slime"
 */
export function getRewardDialect(body: unknown): "slime" | "openrlhf" {
  const isObject = typeof body === "object" && body !== null && !Array.isArray(body);
  return isObject && "response" in body && !("query" in body) ? "slime" : "openrlhf";
}

/** glmv `POST /v1/score` body: the item fields of `glmv reward score`, plus optional per-request switches. */
export const ScoreBody = z.object({
  items: z.array(z.unknown()).min(1),
  style: z.enum(STYLES).optional(),
  specialTokens: z.enum(SPECIAL_TOKEN_MODES).optional(),
  /** False: the responses were generated with thinking off (an empty think pre-filled in the prompt). */
  thinking: z.boolean().optional(),
});

/**
 * The response part of an OpenRLHF query (prompt + response decoded together): strip the prompt when the query
 * starts with it, else take what follows the last `<|assistant|>`, else the whole query.
 * @example responseOfQuery("<|user|>hi<|assistant|><think>a</think>", "<|user|>hi<|assistant|>") // "<think>a</think>"
 */
export function responseOfQuery(query: string, prompt: string | undefined): string {
  if (prompt !== undefined && prompt.length > 0 && query.startsWith(prompt))
    return query.slice(prompt.length);
  const at = query.lastIndexOf(ASSISTANT);
  return at === -1 ? query : query.slice(at + ASSISTANT.length);
}

/** Whether a response still carries the think tags (then the full gate applies). */
const hasThinkTags = (text: string): boolean => text.includes(THINK_OPEN) || text.includes(THINK_CLOSE);

const hasBox = (text: string): boolean =>
  text.includes(BOX_OPEN) || text.includes(BOX_CLOSE) || text.includes("\\boxed");

/** Split off the last non-empty line: [everything above, the line], both trimmed. */
function splitLastLine(text: string): [string, string] {
  const body = text.trimEnd();
  const cut = body.lastIndexOf("\n");
  return cut === -1 ? ["", body.trim()] : [body.slice(0, cut).trim(), body.slice(cut + 1).trim()];
}

/** Wrap the last line in box tokens unless it already holds a box (or there is no text at all). */
function boxLastLine(text: string): string {
  const [above, last] = splitLastLine(text);
  if (last.length === 0 || hasBox(last)) return text;
  return `${above}${above ? "\n" : ""}${BOX_OPEN}${last}${BOX_CLOSE}`;
}

/**
 * Bring a response to the gate's shape. A response whose `<think>` was part of the prompt gets it back, and with
 * `thinking` false one without think tags gets the pre-filled `<think></think>` back; `kept` text is otherwise
 * unchanged. `stripped` text is rebuilt where decoding removed tags (see the module comment): without think tags,
 * the last line is the answer (and the lines above are the reasoning, unless thinking is off); with think tags but
 * no box, the answer region's last line is the box.
 * @example normalizeResponse("2+2 is four.\n4", "stripped", "4.1v").response
 * // "<think>2+2 is four.</think><answer><|begin_of_box|>4<|end_of_box|></answer>"
 * @example normalizeResponse("So <|begin_of_box|>4<|end_of_box|>", "kept", "4.5v", false).response
 * // "<think></think>So <|begin_of_box|>4<|end_of_box|>"
 */
export function normalizeResponse(
  text: string,
  mode: SpecialTokenMode,
  style: (typeof STYLES)[number],
  thinking = true,
): { response: string; rebuilt: boolean } {
  // Some templates end the prompt with `<think>`: the model's text then starts inside the reasoning.
  const t = !text.includes(THINK_OPEN) && text.includes(THINK_CLOSE) ? `${THINK_OPEN}${text}` : text;
  if (mode === "kept") return { response: thinking ? t : prefillEmptyThink(t), rebuilt: false };
  if (!hasThinkTags(t)) {
    // Thinking off: nothing was reasoned, so every line is the answer's, and a box anywhere in it (`\boxed{…}` is
    // plain text, it survives) is the answer's box.
    const [think, last] = thinking ? splitLastLine(t) : ["", t];
    const boxed = !thinking && hasBox(t) ? t : boxLastLine(last);
    const answer = style === "4.1v" ? `${ANSWER_OPEN}${boxed}${ANSWER_CLOSE}` : boxed;
    return { response: `${THINK_OPEN}${think}${THINK_CLOSE}${answer}`, rebuilt: true };
  }
  if (hasBox(t)) return { response: t, rebuilt: false };
  // The tags survived but the box tokens did not (they are special, the tags are not).
  const close = t.indexOf(THINK_CLOSE);
  if (close === -1) return { response: t, rebuilt: false };
  const head = t.slice(0, close + THINK_CLOSE.length);
  const rest = t.slice(head.length);
  const open = rest.indexOf(ANSWER_OPEN);
  const end = rest.lastIndexOf(ANSWER_CLOSE);
  const answer =
    open !== -1 && end > open
      ? `${rest.slice(0, open + ANSWER_OPEN.length)}${boxLastLine(rest.slice(open + ANSWER_OPEN.length, end))}${rest.slice(end)}`
      : boxLastLine(rest);
  return { response: `${head}${answer}`, rebuilt: true };
}

/** A label (string or object) as an object; a string must be JSON. `where` names it (`labels.3`, `label`). */
function labelObject(label: string | Record<string, unknown>, where: string): Record<string, unknown> {
  if (typeof label !== "string") return label;
  let parsed: unknown;
  try {
    parsed = JSON.parse(label);
  } catch {
    throw new GlmvError("bad_input", 'label must be JSON like {"domain":"math","answer":"4"}', { where });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new GlmvError("bad_input", "label must be a JSON object", { where });
  return parsed as Record<string, unknown>;
}

/** A scored item plus whether its response was rebuilt from stripped text. */
export type ServerItem = { item: ScoreInput; rebuilt: boolean };

/** Parse an item with the `glmv reward score` schema; the response is normalised for `mode` and `thinking`. */
function toServerItem(
  raw: Record<string, unknown>,
  field: string,
  mode: SpecialTokenMode,
  runStyle: (typeof STYLES)[number],
  thinking: boolean,
): ServerItem {
  const parsed = ScoreInputSchema.safeParse(raw);
  if (!parsed.success) throw scoreInputError(raw, field) ?? parseBody(ScoreInputSchema, raw, field);
  // Only the known fields go on to the workers: the schema keeps unknown extras, which could be anything
  // (a deeply nested value would be structured-cloned into every worker).
  const known = pickKnownFields(parsed.data);
  const { answerFormat } = known;
  // The request's (or run's) style is the item's unless it names its own: the pool's default must not gate it.
  const style = parsed.data.style ?? runStyle;
  // Other answer formats define their own shape: rebuilding GLM-V tags around them would corrupt it.
  const { response, rebuilt } =
    (answerFormat ?? "glmv") === "glmv"
      ? normalizeResponse(parsed.data.response, mode, style, thinking)
      : { response: parsed.data.response, rebuilt: false };
  const item: ScoreInput = { ...known, response, style };
  return { item, rebuilt };
}

/** The schema's own fields of an item (precision, box frames, tool calls… included), none of its extras. */
function pickKnownFields(data: Record<string, unknown>): ScoreInput {
  const known: Record<string, unknown> = {};
  for (const key of SCORE_INPUT_KEYS) if (data[key] !== undefined) known[key] = data[key];
  return known as ScoreInput;
}

const SCORE_INPUT_KEYS = Object.keys(ScoreInputSchema.shape);

/**
 * OpenRLHF request → items. `labels[i]` carries `domain`, `answer` and optionally `question`, `options`, `style`,
 * `verifiable`, `id`; the response is cut from `query[i]` (see `responseOfQuery`). `thinking` is the run's switch.
 */
export function itemsOfGetReward(
  body: GetRewardBody,
  mode: SpecialTokenMode,
  runStyle: (typeof STYLES)[number],
  thinking = true,
): ServerItem[] {
  if (body.labels.length !== body.query.length)
    throw new GlmvError("bad_input", `expected ${body.query.length} labels, got ${body.labels.length}`, {
      where: "labels",
    });
  if (body.prompts !== undefined && body.prompts.length !== body.query.length)
    throw new GlmvError("bad_input", `expected ${body.query.length} prompts, got ${body.prompts.length}`, {
      where: "prompts",
    });
  return body.query.map((query, i) => {
    const label = labelObject(body.labels[i]!, `labels.${i}`);
    const response = responseOfQuery(query, body.prompts?.[i]);
    return toServerItem({ id: i, ...label, response }, `labels.${i}`, mode, runStyle, thinking);
  });
}

/** glmv batch request → items (each validated with the `glmv reward score` line schema); `thinking` as above. */
export function itemsOfScore(
  items: readonly unknown[],
  mode: SpecialTokenMode,
  runStyle: (typeof STYLES)[number],
  thinking = true,
): ServerItem[] {
  return items.map((raw, i) => {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      throw new GlmvError("bad_input", "item must be an object", { where: `items.${i}` });
    return toServerItem(raw as Record<string, unknown>, `items.${i}`, mode, runStyle, thinking);
  });
}

/** Refuse a label over `MAX_LABEL_CHARS` (an object's measured as JSON) before it is parsed or sent to a worker. */
export function assertLabelSize(label: string | Record<string, unknown>): void {
  const chars = typeof label === "string" ? label.length : JSON.stringify(label).length;
  if (chars > MAX_LABEL_CHARS)
    throw new GlmvError(
      "bad_input",
      `label must be at most ${MAX_LABEL_CHARS} characters of JSON, got ${chars}`,
      {
        where: "label",
      },
    );
}

/** A prompt that ends by pre-filling an empty think block was generated with thinking off (GLM-4.5V/4.6V). */
const EMPTY_THINK_PREFILL = `${THINK_OPEN}${THINK_CLOSE}`;

/**
 * slime request → its one item. The label is the item (`domain`, `answer`, …, as an OpenRLHF label); `response` is
 * the generated text alone (slime does not prepend the prompt). A text prompt that ends with an empty think block
 * marks the sample as generated with thinking off, whatever the run's switch says.
 */
export function itemOfSlime(
  body: SlimeRewardBody,
  mode: SpecialTokenMode,
  runStyle: (typeof STYLES)[number],
  thinking = true,
): ServerItem {
  assertLabelSize(body.label);
  const label = labelObject(body.label, "label");
  const prefilled = typeof body.prompt === "string" && body.prompt.trimEnd().endsWith(EMPTY_THINK_PREFILL);
  const item = { id: 0, ...label, response: body.response };
  return toServerItem(item, "label", mode, runStyle, thinking && !prefilled);
}
