/**
 * Scenes of simple objects for grounding data: shapes of named colours and sizes placed without overlap, each
 * drawn as SVG with its exact pixel box, and the shortest referring expression that names it alone.
 * Pure: the same RNG state gives the same scene.
 */
import type { Rng } from "../../util/rng.ts";

export const SHAPES = ["circle", "square", "rectangle", "triangle", "ellipse", "diamond", "star"] as const;
export type Shape = (typeof SHAPES)[number];
export const COLOURS = {
  red: "#d62728",
  green: "#2ca02c",
  blue: "#1f5fd6",
  yellow: "#f2c80f",
  orange: "#ff7f0e",
  purple: "#8c3fbf",
  pink: "#f06ab4",
  brown: "#8c564b",
  black: "#1b1b1b",
  grey: "#8a8a8a",
} as const;
export type Colour = keyof typeof COLOURS;
/** Object sizes as fractions of the shorter image side. */
const SIZES = { small: [0.09, 0.13], medium: [0.16, 0.22], large: [0.26, 0.32] } as const;
export type Size = keyof typeof SIZES;

/** A placed object: `px` is its pixel box [x1, y1, x2, y2] (exclusive right/bottom edges). */
export type SceneObject = { shape: Shape; colour: Colour; size: Size; px: [number, number, number, number] };
export type Scene = { width: number; height: number; objects: SceneObject[]; background: [string, string] };

const PAPERS = ["#ffffff", "#f5f2ea", "#eef4f7", "#f3f3f3", "#fbf7ee", "#e9efe6"];
/** Empty pixels kept between objects, so boxes never touch and each object reads alone. */
const GAP = 6;

const overlaps = (a: SceneObject["px"], b: SceneObject["px"]) =>
  a[0] < b[2] + GAP && b[0] < a[2] + GAP && a[1] < b[3] + GAP && b[1] < a[3] + GAP;

/**
 * Place between `min` and `max` objects on a `width` × `height` canvas; fewer when the canvas is full.
 * @example layoutScene(createRng(1), 256, 256, 2, 5).objects.length // 2…5
 */
export function layoutScene(rng: Rng, width: number, height: number, min: number, max: number): Scene {
  const want = rng.int(min, max);
  const side = Math.min(width, height);
  const objects: SceneObject[] = [];
  for (let tries = 0; objects.length < want && tries < 400; tries++) {
    const shape = rng.pick(SHAPES);
    const colour = rng.pick(Object.keys(COLOURS) as Colour[]);
    const size = rng.pick(Object.keys(SIZES) as Size[]);
    const [lo, hi] = SIZES[size];
    const h = Math.round(side * (lo + rng.float() * (hi - lo)));
    const w = shape === "rectangle" || shape === "ellipse" ? Math.round(h * (1.5 + rng.float() * 0.5)) : h;
    if (w >= width - 2 * GAP || h >= height - 2 * GAP) continue;
    const x = rng.int(GAP, width - w - GAP);
    const y = rng.int(GAP, height - h - GAP);
    const px: SceneObject["px"] = [x, y, x + w, y + h];
    if (objects.some((o) => overlaps(o.px, px))) continue;
    objects.push({ shape, colour, size, px });
  }
  return { width, height, objects, background: [rng.pick(PAPERS), rng.pick(PAPERS)] };
}

/** The five points of a star inscribed in its box, top point up (its box is exactly `px`). */
function starPoints([x1, y1, x2, y2]: SceneObject["px"]): string {
  const pts: [number, number][] = [];
  for (let i = 0; i < 10; i++) {
    const r = i % 2 === 0 ? 1 : 0.45;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    pts.push([Math.cos(a) * r, Math.sin(a) * r]);
  }
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // Stretch the unit star onto the box so its extreme points touch every edge.
  return pts
    .map(([px, py]) => {
      const sx = x1 + ((px - minX) / (maxX - minX)) * (x2 - x1);
      const sy = y1 + ((py - minY) / (maxY - minY)) * (y2 - y1);
      return `${sx.toFixed(2)},${sy.toFixed(2)}`;
    })
    .join(" ");
}

function objectSvg(o: SceneObject): string {
  const [x1, y1, x2, y2] = o.px;
  const fill = `fill="${COLOURS[o.colour]}"`;
  const [w, h] = [x2 - x1, y2 - y1];
  switch (o.shape) {
    case "circle":
    case "ellipse":
      return `<ellipse cx="${x1 + w / 2}" cy="${y1 + h / 2}" rx="${w / 2}" ry="${h / 2}" ${fill}/>`;
    case "square":
    case "rectangle":
      return `<rect x="${x1}" y="${y1}" width="${w}" height="${h}" ${fill}/>`;
    case "triangle":
      return `<polygon points="${x1},${y2} ${x2},${y2} ${x1 + w / 2},${y1}" ${fill}/>`;
    case "diamond":
      return `<polygon points="${x1 + w / 2},${y1} ${x2},${y1 + h / 2} ${x1 + w / 2},${y2} ${x1},${y1 + h / 2}" ${fill}/>`;
    case "star":
      return `<polygon points="${starPoints(o.px)}" ${fill}/>`;
  }
}

/** The scene as one SVG document: a two-colour gradient background, then the objects. */
export function sceneSvg(scene: Scene): string {
  const [a, b] = scene.background;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}">` +
    `<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${a}"/>` +
    `<stop offset="1" stop-color="${b}"/></linearGradient></defs>` +
    `<rect width="100%" height="100%" fill="url(#bg)"/>${scene.objects.map(objectSvg).join("")}</svg>`
  );
}

/** `colour shape`, the object's label in boxes and detection answers. */
export const objectLabel = (o: SceneObject) => `${o.colour} ${o.shape}`;

const EXTREMES = [
  { words: "leftmost", key: (o: SceneObject) => o.px[0], sign: 1 },
  { words: "rightmost", key: (o: SceneObject) => o.px[2], sign: -1 },
  { words: "topmost", key: (o: SceneObject) => o.px[1], sign: 1 },
  { words: "bottommost", key: (o: SceneObject) => o.px[3], sign: -1 },
] as const;

/**
 * The shortest expression naming object `i` alone: `the red circle`, `the large circle`, `the small red circle`,
 * then `the leftmost red circle` (or top/right/bottom) when position is needed; null if nothing singles it out.
 * @example referringExpression(scene, 0) // "the red circle"
 */
export function referringExpression(scene: Scene, i: number): string | null {
  const me = scene.objects[i]!;
  const candidates: [string, (o: SceneObject) => boolean][] = [
    [`${me.colour} ${me.shape}`, (o) => o.colour === me.colour && o.shape === me.shape],
    [`${me.size} ${me.shape}`, (o) => o.size === me.size && o.shape === me.shape],
    [
      `${me.size} ${me.colour} ${me.shape}`,
      (o) => o.size === me.size && o.colour === me.colour && o.shape === me.shape,
    ],
  ];
  for (const [words, same] of candidates) if (scene.objects.filter(same).length === 1) return `the ${words}`;
  // Position among the objects alike in colour and shape, then among those alike in size too.
  const groups: [string, SceneObject[]][] = [
    [`${me.colour} ${me.shape}`, scene.objects.filter((o) => o.colour === me.colour && o.shape === me.shape)],
    [
      `${me.size} ${me.colour} ${me.shape}`,
      scene.objects.filter((o) => o.size === me.size && o.colour === me.colour && o.shape === me.shape),
    ],
  ];
  for (const [words, alike] of groups)
    for (const e of EXTREMES) {
      // Clearly first along that direction: ahead of every other alike object by more than the gap.
      const mine = e.sign * e.key(me);
      if (alike.every((o) => o === me || e.sign * e.key(o) > mine + GAP)) return `the ${e.words} ${words}`;
    }
  return null;
}
