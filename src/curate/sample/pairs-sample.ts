/**
 * The image–caption half of the generated curation sample (issue 21's example): a few hundred distinct scenes with
 * captions that describe them, plus planted cases a curation pipeline must catch — exact copies, near duplicates
 * (resized, re-encoded, brightened), solid-colour images, QR-code ads, thumbnails too small to train on and captions
 * too short to say anything. `truth` lists the planted ids by kind so a test can check each was caught.
 */
import QRCode from "qrcode";
import sharp from "sharp";
import { createRng, type Rng } from "../../util/rng.ts";

export type PlantedKind =
  | "exactDuplicate"
  | "nearDuplicate"
  | "solidColor"
  | "qrAd"
  | "tooSmall"
  | "shortCaption";

/** One pair as it goes into `pairs.jsonl` (the image is written beside it under `images/`). */
export type SamplePair = { id: string; image: string; caption: string; bytes: Uint8Array };

/**
 * `planted` lists the planted ids by kind. A copy and its original are interchangeable (whichever a pipeline meets
 * first is the one it keeps), so `duplicateOf` maps each copy to its original: exactly one of each pair must survive.
 */
export type PairsTruth = { planted: Record<PlantedKind, string[]>; duplicateOf: Record<string, string> };

export type PairsSample = { pairs: SamplePair[]; truth: PairsTruth };

export type PairsSampleOptions = { distinct: number; seed: number };

const COLOURS = {
  red: "#d62728",
  blue: "#1f77b4",
  green: "#2ca02c",
  orange: "#ff7f0e",
  purple: "#9467bd",
  yellow: "#e6c619",
  black: "#222222",
  white: "#f4f4f4",
} as const;
type Colour = keyof typeof COLOURS;
const SHAPES = ["circle", "square", "triangle", "star"] as const;
type Shape = (typeof SHAPES)[number];

function shapeSvg(shape: Shape, x: number, y: number, r: number, fill: string): string {
  if (shape === "circle") return `<circle cx="${x}" cy="${y}" r="${r}" fill="${fill}"/>`;
  if (shape === "square")
    return `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" fill="${fill}"/>`;
  const points =
    shape === "triangle"
      ? [0, 1, 2].map((k) => [
          x + r * Math.sin((2 * Math.PI * k) / 3),
          y - r * Math.cos((2 * Math.PI * k) / 3),
        ])
      : Array.from({ length: 10 }, (_, k) => {
          const rr = k % 2 ? r * 0.45 : r;
          return [x + rr * Math.sin((Math.PI * k) / 5), y - rr * Math.cos((Math.PI * k) / 5)];
        });
  return `<polygon points="${points.map((p) => p.map((v) => v.toFixed(1)).join(",")).join(" ")}" fill="${fill}"/>`;
}

const article = (word: string) => (/^[aeiou]/.test(word) ? "an" : "a");

/** A scene of 3–5 shapes over a two-colour gradient with a noisy texture, and the caption that describes it. */
async function scene(
  rng: Rng,
  width: number,
  height: number,
): Promise<{ bytes: Uint8Array; caption: string }> {
  const colours = Object.keys(COLOURS) as Colour[];
  const [bgA, bgB] = [rng.pick(colours), rng.pick(colours)];
  const parts: string[] = [];
  const named: string[] = [];
  for (let k = rng.int(3, 5); k > 0; k--) {
    const shape = rng.pick(SHAPES);
    const colour = rng.pick(colours.filter((c) => c !== bgA));
    const r = rng.int(18, Math.floor(height / 4));
    parts.push(shapeSvg(shape, rng.int(r, width - r), rng.int(r, height - r), r, COLOURS[colour]));
    named.push(`${article(colour)} ${colour} ${shape}`);
  }
  const stripes = Array.from({ length: rng.int(4, 12) }, () => {
    const y = rng.int(0, height);
    return `<rect x="0" y="${y}" width="${width}" height="${rng.int(2, 9)}" fill="#fff" opacity="0.${rng.int(1, 3)}"/>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g" x1="0" y1="0" x2="${rng.float().toFixed(2)}" y2="1">
<stop offset="0" stop-color="${COLOURS[bgA]}"/><stop offset="1" stop-color="${COLOURS[bgB]}"/></linearGradient></defs>
<rect width="100%" height="100%" fill="url(#g)"/>${stripes.join("")}${parts.join("")}</svg>`;
  const bytes = await sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toBuffer();
  const caption = `${named.slice(0, -1).join(", ")} and ${named.at(-1)} on ${article(bgA)} ${bgA} and ${bgB} background`;
  return { bytes: new Uint8Array(bytes), caption };
}

/** A copy a crawler would also have found: scaled, re-encoded at another quality, slightly brighter. */
async function nearCopy(bytes: Uint8Array, rng: Rng): Promise<Uint8Array> {
  const meta = await sharp(bytes).metadata();
  const scale = 0.8 + rng.float() * 0.15;
  const out = await sharp(bytes)
    .resize(Math.round(meta.width! * scale), Math.round(meta.height! * scale))
    .modulate({ brightness: 1.04 + rng.float() * 0.04 })
    .jpeg({ quality: rng.int(55, 75) })
    .toBuffer();
  return new Uint8Array(out);
}

/** A web ad: a QR code with a URL beside a slogan, the kind of noise paper §3.1 strips from web data. */
async function qrAd(rng: Rng, index: number): Promise<Uint8Array> {
  const url = `https://shop.example.com/deal/${index}?ref=${rng.int(1000, 9999)}`;
  const qr = await QRCode.toBuffer(url, { type: "png", width: 220, margin: 2, errorCorrectionLevel: "M" });
  const banner = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="300">
<rect width="100%" height="100%" fill="#${rng.pick(["ffdd55", "ff8866", "88ddff"])}"/>
<text x="250" y="120" font-family="DejaVu Sans" font-size="34" font-weight="bold">SCAN ME</text>
<text x="250" y="170" font-family="DejaVu Sans" font-size="26">${rng.int(20, 70)}% OFF today</text></svg>`;
  const out = await sharp(Buffer.from(banner))
    .composite([{ input: qr, left: 20, top: 40 }])
    .png()
    .toBuffer();
  return new Uint8Array(out);
}

async function solid(rng: Rng): Promise<Uint8Array> {
  const background = { r: rng.int(0, 255), g: rng.int(0, 255), b: rng.int(0, 255) };
  const out = await sharp({ create: { width: 400, height: 300, channels: 3, background } })
    .jpeg()
    .toBuffer();
  return new Uint8Array(out);
}

/**
 * Build the pairs: `distinct` scenes, then planted cases made from them, shuffled into one deterministic order.
 * @example const { pairs, truth } = await makePairsSample({ distinct: 240, seed: 1 });
 */
export async function makePairsSample({ distinct, seed }: PairsSampleOptions): Promise<PairsSample> {
  const rng = createRng(seed);
  const planted: Record<PlantedKind, string[]> = {
    exactDuplicate: [],
    nearDuplicate: [],
    solidColor: [],
    qrAd: [],
    tooSmall: [],
    shortCaption: [],
  };
  const duplicateOf: Record<string, string> = {};
  const pairs: SamplePair[] = [];
  const add = (kind: PlantedKind | null, bytes: Uint8Array, caption: string, ext = "jpg") => {
    const id = `pair-${String(pairs.length).padStart(4, "0")}`;
    pairs.push({ id, image: `${id}.${ext}`, caption, bytes });
    if (kind) planted[kind].push(id);
    return id;
  };
  for (let i = 0; i < distinct; i++) {
    const { bytes, caption } = await scene(rng, rng.int(320, 512), rng.int(256, 384));
    add(null, bytes, caption);
  }
  const originals = pairs.slice();
  const plant = Math.max(4, Math.round(distinct / 24));
  const forExact = rng.shuffle(originals).slice(0, plant);
  const forNear = rng.shuffle(originals).slice(0, 2 * plant);
  for (const o of forExact) duplicateOf[add("exactDuplicate", o.bytes, o.caption)] = o.id;
  for (const o of forNear) duplicateOf[add("nearDuplicate", await nearCopy(o.bytes, rng), o.caption)] = o.id;
  for (let i = 0; i < plant; i++)
    add("solidColor", await solid(rng), "a photo of the sky at noon over the sea");
  for (let i = 0; i < plant; i++)
    add("qrAd", await qrAd(rng, i), "scan the code for a discount on shoes today", "png");
  for (let i = 0; i < plant; i++) {
    const { bytes, caption } = await scene(rng, 48, 40);
    add("tooSmall", bytes, caption);
  }
  for (let i = 0; i < plant; i++) {
    const { bytes } = await scene(rng, 400, 300);
    add("shortCaption", bytes, rng.pick(["image", "img", "photo", ""]));
  }
  const order = rng.shuffle(pairs.map((_, i) => i));
  return { pairs: order.map((i) => pairs[i]!), truth: { planted, duplicateOf } };
}
