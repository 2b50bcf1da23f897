/**
 * Page backgrounds for synthetic documents, as PNG bytes: a light gradient, smooth paper-like noise, or a faint
 * texture (ruled lines, a grid, dots). All stay light so dark text reads on them. Deterministic by RNG state.
 */
import sharp from "sharp";
import type { Rng } from "../../util/rng.ts";

export const BACKGROUND_KINDS = ["gradient", "noise", "texture"] as const;
export type BackgroundKind = (typeof BACKGROUND_KINDS)[number];

/** A light colour: every channel in 215–255, a slight tint. */
function lightRgb(rng: Rng): [number, number, number] {
  const base = rng.int(228, 252);
  return [0, 1, 2].map(() => Math.max(215, Math.min(255, base + rng.int(-12, 6)))) as [
    number,
    number,
    number,
  ];
}
const rgb = (c: readonly number[]) => `rgb(${c.join(",")})`;

function gradientSvg(rng: Rng, w: number, h: number): string {
  const angle = rng.int(0, 359);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs>` +
    `<linearGradient id="g" gradientTransform="rotate(${angle} 0.5 0.5)">` +
    `<stop offset="0" stop-color="${rgb(lightRgb(rng))}"/><stop offset="1" stop-color="${rgb(lightRgb(rng))}"/>` +
    `</linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/></svg>`
  );
}

function textureSvg(rng: Rng, w: number, h: number): string {
  const paper = rgb(lightRgb(rng));
  const ink = `rgba(${rng.int(80, 160)},${rng.int(90, 170)},${rng.int(120, 200)},${(0.12 + rng.float() * 0.12).toFixed(2)})`;
  const step = rng.int(14, 32);
  const pattern = rng.pick([
    `<line x1="0" y1="${step - 1}" x2="${step}" y2="${step - 1}" stroke="${ink}" stroke-width="1"/>`,
    `<path d="M ${step - 0.5} 0 V ${step} M 0 ${step - 0.5} H ${step}" stroke="${ink}" stroke-width="1" fill="none"/>`,
    `<circle cx="${step / 2}" cy="${step / 2}" r="1.2" fill="${ink}"/>`,
  ]);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs>` +
    `<pattern id="p" width="${step}" height="${step}" patternUnits="userSpaceOnUse">${pattern}</pattern></defs>` +
    `<rect width="100%" height="100%" fill="${paper}"/><rect width="100%" height="100%" fill="url(#p)"/></svg>`
  );
}

/** Coarse random light pixels, upscaled smoothly and blurred: blotchy paper. */
async function noisePng(rng: Rng, w: number, h: number): Promise<Buffer> {
  const cell = rng.int(6, 24);
  const [cw, ch] = [Math.max(2, Math.ceil(w / cell)), Math.max(2, Math.ceil(h / cell))];
  const [r, g, b] = lightRgb(rng);
  const spread = rng.int(6, 18);
  const data = Buffer.alloc(cw * ch * 3);
  for (let i = 0; i < cw * ch; i++) {
    const d = rng.int(-spread, spread);
    data[i * 3] = Math.min(255, Math.max(200, r + d));
    data[i * 3 + 1] = Math.min(255, Math.max(200, g + d));
    data[i * 3 + 2] = Math.min(255, Math.max(200, b + d));
  }
  return sharp(data, { raw: { width: cw, height: ch, channels: 3 } })
    .resize(w, h, { kernel: "cubic" })
    .blur(1.5)
    .png()
    .toBuffer();
}

/**
 * A `width` × `height` background of `kind` as PNG bytes.
 * @example const png = await generateBackground(createRng(1), "texture", 640, 480);
 */
export async function generateBackground(
  rng: Rng,
  kind: BackgroundKind,
  width: number,
  height: number,
): Promise<Uint8Array> {
  const png =
    kind === "noise"
      ? await noisePng(rng, width, height)
      : await sharp(
          Buffer.from(kind === "gradient" ? gradientSvg(rng, width, height) : textureSvg(rng, width, height)),
        )
          .png()
          .toBuffer();
  return new Uint8Array(png);
}
