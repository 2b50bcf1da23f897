/** Small real images for the curation tests: a smooth "photo", flat rectangles and QR codes (made with qrcode). */
import QRCode from "qrcode";
import sharp from "sharp";

/** A smooth colour gradient with a few soft shapes: photo-like, with nothing a QR detector could lock on to. */
export async function photo(width: number, height: number, seed = 0): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = (x * 255) / width;
      raw[i + 1] = (y * 255) / height;
      raw[i + 2] = 128 + 100 * Math.sin((x + y + seed * 37) / 40);
    }
  return new Uint8Array(
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer(),
  );
}

export async function flat(
  width: number,
  height: number,
  rgb: [number, number, number],
): Promise<Uint8Array> {
  const background = { r: rgb[0], g: rgb[1], b: rgb[2] };
  return new Uint8Array(
    await sharp({ create: { width, height, channels: 3, background } })
      .png()
      .toBuffer(),
  );
}

/** A QR code as PNG, `scale` pixels per module, with its 4-module quiet zone. */
export async function qrPng(text: string, scale = 4): Promise<Buffer> {
  return QRCode.toBuffer(text, { errorCorrectionLevel: "M", margin: 4, scale });
}

/** A photo of `width`×`height` with a QR code pasted at (left, top), as JPEG (an ad poster or a flyer). */
export async function photoWithQr(
  width: number,
  height: number,
  text: string,
  at: { left: number; top: number; scale?: number },
) {
  const code = await qrPng(text, at.scale ?? 4);
  const base = await photo(width, height, 1);
  return new Uint8Array(
    await sharp(base)
      .composite([{ input: code, left: at.left, top: at.top }])
      .jpeg({ quality: 90 })
      .toBuffer(),
  );
}
