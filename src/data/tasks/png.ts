/** PNG encoding of task rasters with `sharp`, for reports, dashboards and debugging (never on the hot path). */
import sharp from "sharp";
import { GlmvError } from "../../util/errors.ts";
import { writeFileAtomic } from "../../util/fs.ts";
import type { RgbImage } from "./raster.ts";

/**
 * Encode an RGB raster as PNG bytes.
 * @example const png = await encodePng(item.image); // Uint8Array starting with 0x89 "PNG"
 */
export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  if (img.data.length !== img.width * img.height * 3) {
    throw new GlmvError(
      "image_invalid",
      `raster has ${img.data.length} bytes, expected ${img.width * img.height * 3}`,
      {
        where: "encodePng",
      },
    );
  }
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Encode and write a PNG atomically (temp file + rename). */
export async function writePng(path: string, img: RgbImage): Promise<void> {
  await writeFileAtomic(path, await encodePng(img));
}
