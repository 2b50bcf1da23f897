/**
 * `glmv generate --model DIR --image FILE --prompt TEXT [--no-think] [--max-new-tokens N] [--temperature T] …`
 * Loads a checkpoint folder (config.json + safetensors, tokenizer.json or glmv's tiny tokenizer), renders the chat
 * template around one image and the prompt, generates, and prints the response: streamed token by token on a TTY,
 * whole at the end otherwise.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { chatPromptText, chatStyleFor, type LoadedModel, loadModelDir } from "../model/chat-generate.ts";
import { openChatModel } from "../model/chat-model.ts";
import type { ChatStyle } from "../model/chat-template.ts";
import type { ProcessedImage } from "../model/processor.ts";
import type { GlmvTokenizer } from "../model/tokenizer.ts";
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

// Loading and the style rule live with the shared chat path (model/chat-generate.ts); re-exported for callers.
export { chatStyleFor, type LoadedModel, loadModelDir };

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
  const text = chatPromptText(
    [{ role: "user", content: [{ type: "image" }, { type: "text", text: prompt }] }],
    o,
  );
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
  // one request at a time, prompt at its exact length: a CLI run compiles exactly the shape it needs
  const model = await openChatModel(args.model, { style: args.style, maxBatch: 1, promptBucket: 1 });
  try {
    const bytes = new Uint8Array(
      await readFile(args.image).catch((e: unknown) => {
        throw new GlmvError("not_found", "cannot read image", { where: args.image, cause: e });
      }),
    );
    const forcedLen = model.style === "4.5v" ? 1 : 2; // </think>, and <answer> in the 4.1V style
    let streamed = "";
    const { text } = await model.generate({
      messages: [{ role: "user", content: [{ type: "image" }, { type: "text", text: args.prompt }] }],
      images: [bytes],
      thinking: !args.noThink,
      maxTokens: args.maxNewTokens,
      temperature: args.temperature,
      topP: args.topP,
      topK: args.topK,
      seed: args.seed,
      ...(args.thinkBudget !== undefined
        ? {
            thinkBudget: args.thinkBudget,
            answerTokens: Math.max(0, args.maxNewTokens - args.thinkBudget - forcedLen),
          }
        : {}),
      ...(io.isTTY
        ? {
            onText: (piece: string) => {
              io.write(piece);
              streamed += piece;
            },
          }
        : {}),
    });
    io.write(io.isTTY ? `${text.slice(streamed.length)}\n` : `${text}\n`);
    return text;
  } finally {
    await model.close();
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
