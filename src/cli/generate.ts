/**
 * `glmv generate --model DIR --image FILE --prompt TEXT [--no-think] [--max-new-tokens N] [--temperature T] …`
 * Loads a checkpoint folder (config.json + safetensors, tokenizer.json or glmv's tiny tokenizer), renders the chat
 * template around one image and the prompt, generates, and prints the response: streamed token by token on a TTY,
 * whole at the end otherwise.
 */
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { tree } from "@jax-js/jax";
import { z } from "zod";
import { type ChatStyle, renderChat } from "../model/chat-template.ts";
import { loadCheckpointDir } from "../model/checkpoint.ts";
import type { GlmvConfig } from "../model/config.ts";
import { parseHfConfig } from "../model/config-hf.ts";
import { expectedTensors } from "../model/config-tensors.ts";
import { createGenerator } from "../model/generate.ts";
import { type GlmvParams, paramsFromNamed } from "../model/params.ts";
import { type ProcessedImage, processImage } from "../model/processor.ts";
import { type GlmvTokenizer, loadTinyTokenizer, loadTokenizerDir } from "../model/tokenizer.ts";
import { expandPlaceholders } from "../model/video.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import { GlmvError } from "../util/errors.ts";
import { parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";

const USAGE = `usage: glmv generate --model DIR --image FILE --prompt TEXT [options]

options:
  --model DIR           checkpoint folder: config.json, *.safetensors, tokenizer.json (else the tiny tokenizer)
  --image FILE          image file (PNG, JPEG, …)
  --prompt TEXT         the user's question
  --style 4.1v|4.5v     chat template and force-answer style (default: 4.5v for a GLM-4.5V (MoE) model or with
                        --no-think, else 4.1v)
  --no-think            GLM-4.5V thinking switch off (/nothink and an empty <think></think>)
  --max-new-tokens N    default 256
  --temperature T       0 = greedy (default 0)
  --top-p P             default 1
  --top-k K             0 = off (default 0)
  --seed N              default 0
  --think-budget N      force </think> after N new tokens (4.1V also injects <answer>)
  -h, --help            show this help`;

/** Parsed options of `glmv generate`. */
export const GenerateArgs = z.object({
  model: z.string().min(1),
  image: z.string().min(1),
  prompt: z.string(),
  /** Absent = from the model: "4.5v" when the config has `text.moe` (GLM-4.5V), else "4.1v" (`chatStyleFor`). */
  style: z.enum(["4.1v", "4.5v"]).optional(),
  noThink: z.boolean(),
  maxNewTokens: z.coerce.number().int().positive(),
  temperature: z.coerce.number().min(0),
  topP: z.coerce.number().gt(0).max(1),
  topK: z.coerce.number().int().min(0),
  seed: z.coerce.number().int(),
  thinkBudget: z.coerce.number().int().min(0).optional(),
});
export type GenerateArgs = z.infer<typeof GenerateArgs>;

/** Parse argv: the args, a usage error to print (exit 2), or null after --help. */
export function parseGenerateArgs(argv: string[]): GenerateArgs | string | null {
  const values = parseCliArgs(argv, {
    model: { type: "string" },
    image: { type: "string" },
    prompt: { type: "string" },
    style: { type: "string" },
    "no-think": { type: "boolean", default: false },
    "max-new-tokens": { type: "string", default: "256" },
    temperature: { type: "string", default: "0" },
    "top-p": { type: "string", default: "1" },
    "top-k": { type: "string", default: "0" },
    seed: { type: "string", default: "0" },
    "think-budget": { type: "string" },
  });
  if (typeof values === "string") return values;
  if (values.help) return null;
  const noThink = values["no-think"] === true;
  if (noThink && values.style === "4.1v")
    return "--no-think is the GLM-4.5V switch; it cannot go with --style 4.1v";
  const parsed = GenerateArgs.safeParse({
    model: values.model,
    image: values.image,
    prompt: values.prompt,
    style: values.style ?? (noThink ? "4.5v" : undefined),
    noThink,
    maxNewTokens: values["max-new-tokens"],
    temperature: values.temperature,
    topP: values["top-p"],
    topK: values["top-k"],
    seed: values.seed,
    thinkBudget: values["think-budget"],
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return `--${kebab(String(issue?.path[0] ?? "?"))}: ${issue?.message ?? "invalid"}`;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The chat/force-answer style a run uses: the explicit `--style`, else the model's own (GLM-4.5V, i.e. a config
 * with `text.moe`, speaks the 4.5V template and closes a forced thought with `</think>` alone; 4.1V adds `<answer>`).
 * @example chatStyleFor(undefined, presetConfig("tiny-moe")) // "4.5v"
 */
export function chatStyleFor(style: ChatStyle | undefined, cfg: Pick<GlmvConfig, "text">): ChatStyle {
  return style ?? (cfg.text.moe ? "4.5v" : "4.1v");
}

/** A loaded model: config, parameters (caller disposes) and tokenizer. */
export type LoadedModel = { cfg: GlmvConfig; params: GlmvParams; tok: GlmvTokenizer };

/**
 * Load a checkpoint folder for inference.
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
 * Prompt token ids for one image and one question, with `<|image|>` expanded to the image's token count.
 * @example promptIds(tok, img, "What is shown?", { style: "4.5v", thinking: false })
 */
export function promptIds(
  tok: GlmvTokenizer,
  image: Pick<ProcessedImage, "gridThw">,
  prompt: string,
  o: { style: ChatStyle; thinking: boolean },
): number[] {
  const text = renderChat([{ role: "user", content: [{ type: "image" }, { type: "text", text: prompt }] }], {
    style: o.style,
    enableThinking: o.thinking,
  });
  return tok.encode(expandPlaceholders(text, { images: [image.gridThw] }));
}

/** Where output goes (injectable for tests). */
export type GenerateIo = { write: (text: string) => void; isTTY: boolean };

/**
 * Run `glmv generate` with parsed args; returns the response text (without the stop token).
 * @example await runGenerate(args, { write: (s) => process.stdout.write(s), isTTY: false });
 */
export async function runGenerate(args: GenerateArgs, io: GenerateIo): Promise<string> {
  await initTensorEngine();
  const { cfg, params, tok } = await loadModelDir(args.model);
  try {
    const bytes = new Uint8Array(
      await readFile(args.image).catch((e: unknown) => {
        throw new GlmvError("not_found", "cannot read image", { where: args.image, cause: e });
      }),
    );
    const v = cfg.vision;
    const image = await processImage(bytes, {
      patchSize: v.patchSize,
      mergeSize: v.spatialMergeSize,
      temporalPatchSize: v.temporalPatchSize,
    });
    const style = chatStyleFor(args.style, cfg);
    const ids = promptIds(tok, image, args.prompt, { style, thinking: !args.noThink });
    const s = tok.special;
    // GLM's generation_config stops at <|endoftext|>, <|user|> and <|observation|>
    const stopIds = [s.endOfText, s.user, s.observation];
    const gen = createGenerator(cfg, {
      batchSize: 1,
      promptLen: ids.length,
      maxNewTokens: args.maxNewTokens,
    });
    const shown: number[] = [];
    let printed = "";
    const stream = (_row: number, token: number) => {
      if (stopIds.includes(token)) return;
      shown.push(token);
      const text = tok.decode(shown);
      // print only the new suffix; a partial multi-byte piece waits for the next token
      if (text.startsWith(printed) && !text.endsWith("\uFFFD")) {
        io.write(text.slice(printed.length));
        printed = text;
      }
    };
    try {
      const out = await gen.generate(
        params,
        { prompts: [ids], imageGridThw: [image.gridThw], pixels: image.pixelValues },
        {
          temperature: args.temperature,
          topP: args.topP,
          topK: args.topK,
          seed: args.seed,
          stopIds,
          padId: s.endOfText,
          allowedVocab: tok.vocabSize, // never sample the model's padding ids
          ...(args.thinkBudget !== undefined
            ? {
                thinkBudget: args.thinkBudget,
                forceAnswer: { style, thinkEndId: s.thinkEnd, answerStartId: s.answerStart },
              }
            : {}),
        },
        io.isTTY ? stream : undefined,
      );
      const all = out.tokens[0]!;
      const tokens = out.finished[0] ? all.slice(0, -1) : all; // drop the stop token
      const text = tok.decode(tokens);
      io.write(io.isTTY ? `${text.slice(printed.length)}\n` : `${text}\n`);
      return text;
    } finally {
      gen.dispose();
    }
  } finally {
    tree.dispose(params);
  }
}

async function run(argv: string[]): Promise<number> {
  const args = parseGenerateArgs(argv);
  if (args === null) {
    console.log(USAGE);
    return 0;
  }
  if (typeof args === "string") {
    console.error(`glmv generate: ${args}\n\n${USAGE}`);
    return 2;
  }
  await runGenerate(args, { write: (t) => process.stdout.write(t), isTTY: process.stdout.isTTY === true });
  return 0;
}

/** The `glmv generate` command. */
export const generateCommand: Command = { summary: "generate a response for an image and a prompt", run };
