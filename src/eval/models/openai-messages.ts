/**
 * A generation request → OpenAI chat messages: the item's images (then the video's frames, as images) as data-URL
 * `image_url` parts before the question text. Images above the pixel cap are downscaled with sharp, keeping the
 * aspect ratio, so the server's processor never makes more image tokens than the paper's protocol allows.
 */
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { GlmvError } from "../../util/errors.ts";
import type { GenerationRequest } from "../model-client.ts";
import { sniffImageMime } from "../records.ts";
import type { EvalImage } from "../types.ts";

/**
 * Default cap on an image's width × height: GLM-4.1V's preprocessor `max_pixels` (9,633,792, counted over the 2
 * frames an image is duplicated to), i.e. 4,816,896 pixels = 6,144 image tokens of 28 × 28, the paper's §6 cap.
 */
export const DEFAULT_MAX_PIXELS = 9_633_792 / 2;

/** GLM-4.5V's chat template appends this to the user turn when thinking is off (it adds nothing when present). */
export const NOTHINK_SUFFIX = "/nothink";

export type PromptStyle = "4.1v" | "4.5v";

export type OpenAIContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } };

export type OpenAIMessage = { role: "user" | "assistant"; content: string | OpenAIContentPart[] };

/**
 * Bytes of an image, downscaled when width × height exceeds `maxPixels`, as a data URL. A file that cannot be read
 * or decoded is `image_invalid` naming it (not retried).
 * @example await imageDataUrl({ path: "images/1.png" }, DEFAULT_MAX_PIXELS) // "data:image/png;base64,iVBOR…"
 */
export async function imageDataUrl(image: EvalImage, maxPixels: number): Promise<string> {
  const where = "path" in image ? image.path : "image bytes";
  const bytes = "path" in image ? await readImageFile(image.path) : image.bytes;
  let width: number | undefined;
  let height: number | undefined;
  let format: string | undefined;
  try {
    ({ width, height, format } = await sharp(bytes).metadata());
  } catch (e) {
    throw new GlmvError("image_invalid", `cannot decode image: ${(e as Error).message}`, { where, cause: e });
  }
  if (!width || !height) throw new GlmvError("image_invalid", "image has no size", { where });
  const mime = ("mime" in image ? image.mime : null) ?? sniffImageMime(bytes) ?? `image/${format}`;
  if (width * height <= maxPixels) return dataUrl(mime, bytes);
  const scale = Math.sqrt(maxPixels / (width * height));
  const resized = sharp(bytes).resize(
    Math.max(1, Math.floor(width * scale)),
    Math.max(1, Math.floor(height * scale)),
    { kernel: "cubic" },
  );
  // photos stay JPEG (a PNG of one is many times larger); everything else becomes lossless PNG
  if (mime === "image/jpeg") return dataUrl(mime, await resized.jpeg({ quality: 95 }).toBuffer());
  return dataUrl("image/png", await resized.png().toBuffer());
}

async function readImageFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    throw new GlmvError("image_invalid", `cannot read image file: ${code}`, { where: path, cause: e });
  }
}

const dataUrl = (mime: string, bytes: Uint8Array) =>
  `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")}`;

/** The user turn's text: the prompt, plus `/nothink` in the 4.5V style when thinking is off. */
export function userText(
  request: Pick<GenerationRequest, "prompt" | "thinking">,
  style: PromptStyle,
): string {
  return style === "4.5v" && !request.thinking ? `${request.prompt}${NOTHINK_SUFFIX}` : request.prompt;
}

/**
 * The one user message of a request: plain text without images, else image parts (images, then video frames)
 * followed by the text.
 * @example await userMessage({ prompt: "How many?", images: [], thinking: true, … }, { style: "4.1v", maxPixels })
 * // { role: "user", content: "How many?" }
 */
export async function userMessage(
  request: GenerationRequest,
  opts: { style: PromptStyle; maxPixels: number },
): Promise<OpenAIMessage> {
  const text = userText(request, opts.style);
  const images = [...request.images, ...(request.video?.frames ?? [])];
  if (images.length === 0) return { role: "user", content: text };
  const urls = await Promise.all(images.map((image) => imageDataUrl(image, opts.maxPixels)));
  return {
    role: "user",
    content: [
      ...urls.map((url) => ({ type: "image_url" as const, image_url: { url } })),
      { type: "text", text },
    ],
  };
}
