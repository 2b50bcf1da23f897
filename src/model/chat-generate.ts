/**
 * One chat request against a loaded glmv checkpoint, the path `glmv generate`, the eval harness's in-process model
 * (`local:DIR`) and `glmv serve model` share: load the folder once (`loadModelDir`), turn messages and media into
 * prompt ids (`prepareChat`: chat template, image/video processing, placeholder expansion), and run a batch of
 * prepared requests through one static-shape generator (`generateChatBatch`). Scheduling (queueing, batching,
 * compiled shapes) is `chat-model.ts`.
 */
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { GlmvError } from "../util/errors.ts";
import { type ChatMessage, type ChatStyle, renderChat } from "./chat-template.ts";
import { loadCheckpointDir } from "./checkpoint.ts";
import type { GlmvConfig } from "./config.ts";
import { parseHfConfig } from "./config-hf.ts";
import { expectedTensors } from "./config-tensors.ts";
import type { Generator } from "./generate.ts";
import { type GlmvParams, paramsFromNamed } from "./params.ts";
import type { GridThw } from "./position-ids.ts";
import { decodeImage, type ProcessedImage, processImage, type RawImage } from "./processor.ts";
import { SPECIAL_TOKENS } from "./special-tokens.ts";
import { type GlmvTokenizer, loadTinyTokenizer, loadTokenizerDir } from "./tokenizer.ts";
import { expandPlaceholders, processVideo } from "./video.ts";

/** A loaded model: config, parameters (caller disposes) and tokenizer. */
export type LoadedModel = { cfg: GlmvConfig; params: GlmvParams; tok: GlmvTokenizer };

/**
 * Load a checkpoint folder for inference: config.json, *.safetensors, tokenizer.json (else glmv's tiny tokenizer).
 * @example const { cfg, params, tok } = await loadModelDir("runs/x/ckpt-100");
 */
export async function loadModelDir(dir: string): Promise<LoadedModel> {
  const configPath = join(dir, "config.json");
  const configText = await readFile(configPath, "utf8").catch((e: unknown) => {
    const why =
      (e as { code?: string }).code === "ENOENT" ? "no config.json in --model" : "cannot read config.json";
    throw new GlmvError("not_found", why, { where: configPath, cause: e });
  });
  let configJson: unknown;
  try {
    configJson = JSON.parse(configText);
  } catch (e) {
    throw new GlmvError("bad_config", `config.json is not valid JSON: ${(e as Error).message}`, {
      where: configPath,
      cause: e,
    });
  }
  const cfg = parseHfConfig(configJson, configPath);
  const { tensors } = await loadCheckpointDir(dir, expectedTensors(cfg));
  const hasTokenizer = await access(join(dir, "tokenizer.json")).then(
    () => true,
    () => false,
  );
  const tok = hasTokenizer ? await loadTokenizerDir(dir) : await loadTinyTokenizer();
  if (tok.vocabSize > cfg.text.vocabSize)
    throw new GlmvError("bad_config", `tokenizer has ${tok.vocabSize} ids, model ${cfg.text.vocabSize}`);
  return { cfg, params: paramsFromNamed(tensors, cfg), tok };
}

/**
 * The chat/force-answer style a model speaks: the explicit one, else its own (GLM-4.5V, i.e. a config with
 * `text.moe`, speaks the 4.5V template and closes a forced thought with `</think>` alone; 4.1V adds `<answer>`).
 * @example chatStyleFor(undefined, presetConfig("tiny-moe")) // "4.5v"
 */
export function chatStyleFor(style: ChatStyle | undefined, cfg: Pick<GlmvConfig, "text">): ChatStyle {
  return style ?? (cfg.text.moe ? "4.5v" : "4.1v");
}

/** An image as bytes of an encoded file (PNG, JPEG, …) or already decoded pixels. */
export type ChatImage = Uint8Array | RawImage;

/** One chat request. Media parts of the messages take `images` / `videos` in order. */
export type ChatRequest = {
  messages: ChatMessage[];
  images?: ChatImage[];
  /** Sampled frames of each video part; `seconds` (the clip's length) spaces the frames' timestamps. */
  videos?: { frames: ChatImage[]; seconds?: number }[];
  /** GLM-4.5V's switch (default on); the 4.1V template always thinks. */
  thinking?: boolean;
  /** The last message is the assistant's: continue its text instead of opening a new turn. */
  continueFinal?: boolean;
  /** New tokens; a row forced to answer may exceed it by `answerTokens` (see `thinkBudget`). */
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  /**
   * Force-answering: a thought still open after this many new tokens is closed by injected `</think>` (4.1V:
   * `</think><answer>`), after which up to `answerTokens` more may follow. Ignored when the prompt does not leave a
   * thought open (thinking off, or a continued text that already closed it).
   */
  thinkBudget?: number;
  answerTokens?: number;
  /** Stop strings: the text ends before the first one (not included), finish reason "stop". */
  stop?: string[];
  /** Drop the tokenizer's special tokens from the text (default false: GLM's markers are kept). */
  skipSpecial?: boolean;
  signal?: AbortSignal;
  /** Streaming: each new piece of decoded text (may run past a stop string, which is applied at the end). */
  onText?: (text: string) => void;
};

/** A finished request: the raw text (special tokens kept, stop token dropped) and how it ended. */
export type ChatResult = {
  text: string;
  finishReason: "stop" | "length";
  /** The thinking budget ran out and `</think>` (4.1V: `</think><answer>`) was injected. */
  forcedAnswer: boolean;
  promptTokens: number;
  completionTokens: number;
};

/** Where media are processed: the model's vision geometry plus the processor's pixel bounds. */
export type MediaOptions = { minPixels?: number; maxPixels?: number };

/** A request ready to generate: prompt ids, its media (grids and patch rows), and resolved settings. */
export type PreparedChat = {
  ids: number[];
  imageGrids: GridThw[];
  videoGrids: GridThw[];
  imagePixels: Float32Array[];
  videoPixels: Float32Array[];
  /** Tokens force-answering injects for this request, or undefined when it does not apply. */
  forced: number[] | undefined;
  request: ChatRequest;
};

/** The parts of a loaded model a chat needs. */
export type ChatCore = { cfg: GlmvConfig; tok: GlmvTokenizer; style: ChatStyle; media?: MediaOptions };

const toRaw = async (image: ChatImage): Promise<RawImage> =>
  image instanceof Uint8Array ? await decodeImage(image) : image;

/**
 * The prompt text of a request (placeholders not expanded). With `continueFinal` the last (assistant) message's text
 * follows the generation prompt verbatim, so the model continues it (how harnesses force an answer on vLLM/SGLang).
 * @example chatPromptText([{ role: "user", content: "Hi" }], { style: "4.5v", thinking: false })
 * // "[gMASK]<sop><|user|>\nHi/nothink<|assistant|>\n<think></think>\n"
 */
export function chatPromptText(
  messages: readonly ChatMessage[],
  o: { style: ChatStyle; thinking: boolean; continueFinal?: boolean },
): string {
  const last = messages.at(-1);
  if (!o.continueFinal || last?.role !== "assistant")
    return renderChat(messages, { style: o.style, enableThinking: o.thinking });
  if (typeof last.content !== "string" && last.content.some((p) => p.type !== "text"))
    throw new GlmvError("bad_input", "a continued assistant message holds text only", { where: "messages" });
  const text =
    typeof last.content === "string"
      ? last.content
      : last.content.map((p) => (p.type === "text" ? p.text : "")).join("");
  let head = renderChat(messages.slice(0, -1), { style: o.style, enableThinking: o.thinking });
  // 4.5V non-thinking pre-fills an empty thought; a continued text that opens its own replaces it
  const emptyThought = `${SPECIAL_TOKENS.thinkStart}${SPECIAL_TOKENS.thinkEnd}\n`;
  if (head.endsWith(emptyThought) && text.startsWith(SPECIAL_TOKENS.thinkStart))
    head = head.slice(0, -emptyThought.length);
  return head + text;
}

/** True when the prompt leaves a thought open (the model's next tokens are thinking). */
function thoughtOpen(text: string): boolean {
  const start = text.lastIndexOf(SPECIAL_TOKENS.thinkStart);
  const end = text.lastIndexOf(SPECIAL_TOKENS.thinkEnd);
  const assistant = text.lastIndexOf(SPECIAL_TOKENS.assistant);
  if (end > assistant) return start > end; // this turn already closed a thought
  return true; // nothing closed in this turn yet: the model thinks first (4.1V always, 4.5V with thinking on)
}

/**
 * Turn a request into prompt ids and processed media.
 * @example const p = await prepareChat(core, { messages, images: [png], maxTokens: 64 });
 */
export async function prepareChat(core: ChatCore, request: ChatRequest): Promise<PreparedChat> {
  if (!(request.maxTokens >= 1))
    throw new GlmvError("bad_input", "maxTokens must be ≥ 1", { where: "maxTokens" });
  const v = core.cfg.vision;
  const geometry = {
    patchSize: v.patchSize,
    mergeSize: v.spatialMergeSize,
    temporalPatchSize: v.temporalPatchSize,
  };
  const images: ProcessedImage[] = [];
  for (const image of request.images ?? [])
    images.push(await processImage(await toRaw(image), { ...geometry, ...core.media }));
  const videos = [];
  for (const video of request.videos ?? []) {
    const frames = await Promise.all(video.frames.map(toRaw));
    const processed = processVideo(frames, { ...geometry, ...core.media });
    // timestamps per temporal patch: its first frame's time in the clip (1 frame a second when unknown)
    const step = video.seconds !== undefined && frames.length > 0 ? video.seconds / frames.length : 1;
    const timestamps = Array.from({ length: processed.gridThw[0] }, (_, k) => k * v.temporalPatchSize * step);
    videos.push({ processed, timestamps });
  }
  const thinking = request.thinking ?? true;
  const text = chatPromptText(request.messages, {
    style: core.style,
    thinking,
    continueFinal: request.continueFinal ?? false,
  });
  const expanded = expandPlaceholders(text, {
    images: images.map((i) => i.gridThw),
    videos: videos.map((x) => ({ gridThw: x.processed.gridThw, timestamps: x.timestamps })),
    mergeSize: v.spatialMergeSize,
  });
  const s = core.tok.special;
  const forced =
    request.thinkBudget !== undefined && thoughtOpen(text)
      ? core.style === "4.5v"
        ? [s.thinkEnd]
        : [s.thinkEnd, s.answerStart]
      : undefined;
  return {
    ids: core.tok.encode(expanded),
    imageGrids: images.map((i) => i.gridThw),
    videoGrids: videos.map((x) => x.processed.gridThw),
    imagePixels: images.map((i) => i.pixelValues),
    videoPixels: videos.map((x) => x.processed.pixelValues),
    forced,
    request,
  };
}

/** How many new tokens a request may need: its maximum, or past it by the forced tokens and answer after a budget. */
export function tokenLimit(p: Pick<PreparedChat, "forced" | "request">): number {
  const r = p.request;
  if (!p.forced || r.thinkBudget === undefined) return r.maxTokens;
  return Math.max(r.maxTokens, r.thinkBudget + p.forced.length + (r.answerTokens ?? 0));
}

/** The tokens GLM's generation_config stops at: `<|endoftext|>`, `<|user|>`, `<|observation|>`. */
export const stopIdsOf = (tok: GlmvTokenizer): number[] => [
  tok.special.endOfText,
  tok.special.user,
  tok.special.observation,
];

/**
 * Run prepared requests as one batch through `gen` (built for exactly `rows.length` rows and a prompt length and
 * token count that fit them). All rows share the sampling settings and budget of the first (the caller groups them).
 * Each row is cut back to its own limit: generation is causal, so that equals running it alone with that limit.
 */
export async function generateChatBatch(
  core: ChatCore,
  params: GlmvParams,
  gen: Generator,
  rows: readonly PreparedChat[],
): Promise<ChatResult[]> {
  const tok = core.tok;
  const stopIds = stopIdsOf(tok);
  const first = rows[0]!.request;
  const streams = rows.map((r) => textStream(tok, stopIds, r.request.onText));
  const forced = rows[0]!.forced;
  const out = await gen.generate(
    params,
    {
      prompts: rows.map((r) => r.ids),
      imageGridThw: rows.flatMap((r) => r.imageGrids),
      videoGridThw: rows.flatMap((r) => r.videoGrids),
      pixels: concatRows([...rows.flatMap((r) => r.imagePixels), ...rows.flatMap((r) => r.videoPixels)]),
    },
    {
      temperature: first.temperature ?? 1,
      topP: first.topP ?? 1,
      topK: first.topK ?? 0,
      seed: first.seed ?? 0,
      stopIds,
      padId: tok.special.endOfText,
      allowedVocab: tok.vocabSize, // never sample the model's padding ids
      ...(forced && first.thinkBudget !== undefined
        ? {
            thinkBudget: first.thinkBudget,
            forceAnswer: { style: core.style, thinkEndId: forced[0]!, answerStartId: forced[1] },
          }
        : {}),
    },
    (row, token) => streams[row]?.(token),
  );
  return rows.map((r, i) => {
    const wasForced = out.injected[i]!.some(Boolean);
    const keep = wasForced ? tokenLimit(r) : r.request.maxTokens;
    const tokens = out.tokens[i]!.slice(0, keep);
    const stopped =
      tokens.length > 0 && stopIds.includes(tokens.at(-1)!) && !out.injected[i]![tokens.length - 1];
    const body = stopped ? tokens.slice(0, -1) : tokens;
    const { text, hit } = cutAtStop(
      tok.decode(body, { skipSpecial: r.request.skipSpecial ?? false }),
      r.request.stop ?? [],
    );
    return {
      text,
      finishReason: stopped || hit ? "stop" : "length",
      forcedAnswer: out.injected[i]!.slice(0, keep).some(Boolean),
      promptTokens: r.ids.length,
      completionTokens: tokens.length,
    };
  });
}

/** The text before the first stop string, and whether one was found. */
export function cutAtStop(text: string, stop: readonly string[]): { text: string; hit: boolean } {
  let at = -1;
  for (const s of stop) {
    const i = s.length > 0 ? text.indexOf(s) : -1;
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at < 0 ? { text, hit: false } : { text: text.slice(0, at), hit: true };
}

/** Concatenate patch rows; undefined when there are none. */
function concatRows(parts: readonly Float32Array[]): Float32Array | undefined {
  if (parts.length === 0) return undefined;
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A per-row token sink that emits newly decoded text (a partial multi-byte piece waits for the next token). */
function textStream(
  tok: GlmvTokenizer,
  stopIds: readonly number[],
  onText: ((t: string) => void) | undefined,
) {
  if (!onText) return undefined;
  const shown: number[] = [];
  let printed = "";
  let done = false;
  return (token: number) => {
    if (done) return;
    if (stopIds.includes(token)) {
      done = true;
      return;
    }
    shown.push(token);
    const text = tok.decode(shown);
    if (text.startsWith(printed) && !text.endsWith("\uFFFD")) {
      onText(text.slice(printed.length));
      printed = text;
    }
  };
}
