/** Small images for the image-pair stage tests, made with sharp (no shipped fixtures). */
import sharp from "sharp";

/** A solid colour image. */
export const solidImage = (
  width: number,
  height: number,
  rgb: [number, number, number],
  format: "png" | "jpeg" = "png",
) =>
  sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    [format]()
    .toBuffer()
    .then((b) => new Uint8Array(b));

/** A busy, seed-dependent pattern: different seeds give perceptually different images. */
export async function patternImage(
  width: number,
  height: number,
  seed: number,
  quality = 90,
): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const u = x / width;
      const v = y / height;
      raw[i] = 128 + 127 * Math.sin(2 * Math.PI * (u * (1 + (seed % 5)) + v * (seed % 3)));
      raw[i + 1] = 128 + 127 * Math.cos(2 * Math.PI * (v * (2 + (seed % 7)) - u * ((seed >> 2) % 4)));
      raw[i + 2] = 128 + 127 * Math.sin(2 * Math.PI * ((u - 0.5) ** 2 + (v - 0.3) ** 2) * (2 + (seed % 4)));
    }
  const b = await sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
  return new Uint8Array(b);
}

/** The same picture re-encoded smaller at a lower quality (a near duplicate). */
export const reencoded = async (bytes: Uint8Array, width: number, quality = 60) =>
  new Uint8Array(await sharp(bytes).resize(width).jpeg({ quality }).toBuffer());
