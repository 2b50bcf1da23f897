/** The pixel size of a benchmark image (file or bytes), read from its header: grounding scores need it. */
import sharp from "sharp";
import { GlmvError } from "../../util/errors.ts";
import type { EvalImage } from "../types.ts";

/** Width and height in pixels, as stored (EXIF rotation not applied, as PIL's `Image.size` reports them). */
export type ImageSize = { width: number; height: number };

/**
 * The stored size of an image; an unreadable image is an `image_invalid` error naming `where`.
 * @example await imageSize({ path: "screen.png" }, "screenspot_mobile.json:[0]") // { width: 1170, height: 2532 }
 */
export async function imageSize(image: EvalImage, where: string): Promise<ImageSize> {
  const input = "path" in image ? image.path : image.bytes;
  try {
    const { width, height } = await sharp(input).metadata();
    if (!width || !height) throw new Error("no width/height in the header");
    return { width, height };
  } catch (cause) {
    const what = "path" in image ? image.path : `${image.bytes.length} bytes`;
    throw new GlmvError(
      "image_invalid",
      `cannot read the size of image ${what}: ${(cause as Error).message}`,
      {
        where,
        cause,
      },
    );
  }
}
