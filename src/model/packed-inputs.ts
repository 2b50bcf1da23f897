/**
 * True sequence packing (§5.4): several sequences share one row of the fixed context. Each keeps its own
 * 3-D RoPE position ids (restarting at 0), attends only to itself (block-diagonal causal mask), and its
 * images' features land on its own placeholders, so a packed row computes exactly what the sequences would
 * compute one per row. Images of all segments go to the vision tower in row/segment order; unused image
 * slots are filled with blank images whose features nothing reads, so the vision input shape stays fixed.
 * Images only: video placeholders are not packed.
 */
import { type Array as JaxArray, numpy as np } from "@jax-js/jax";
import { GlmvError } from "../util/errors.ts";
import type { GlmvConfig } from "./config.ts";
import { concatFloat32 } from "./encode.ts";
import { type ModelInputs, textRopeArrays } from "./model.ts";
import type { PackShape } from "./packing.ts";
import { type GridThw, getRopeIndex } from "./position-ids.ts";
import { visionAux, visionGeometry } from "./vision.ts";

/**
 * One sequence to place in a row: token ids (placeholders expanded), its images' patch rows and grids.
 * `mediaEnd` (default: all ids) ends the part whose `<|image|>` tokens are placeholders: after it (a sampled
 * response) every token is plain text with sequential positions, exactly as the generator decoded it.
 */
export type PackedSegment = {
  ids: readonly number[];
  pixels?: Float32Array;
  grids?: readonly GridThw[];
  mediaEnd?: number;
};

/** Where a segment sits: its row, first slot and length. */
export type SegmentPlace = { row: number; start: number; length: number };

/** The host side of a packed batch (plain data). */
export type PackedLayout = {
  tokens: number[][]; // [rows][context]
  /** Segment index within its row per slot, −1 on padding. */
  segment: number[][];
  /** Per slot: an image placeholder that takes a vision feature. */
  placeholder: boolean[][];
  /** 3-D positions per row: [rows][3][context]. */
  positions: number[][][];
  places: SegmentPlace[][]; // per row, per segment
  grids: GridThw[]; // real images then blank fillers, imageSlots in all
  pixels: Float32Array;
  realImageTokens: number;
};

/** The blank filler grid: one image of the preset's side (4×4 patches for tiny). */
function fillerGrid(cfg: GlmvConfig): GridThw {
  const side = Math.max(cfg.vision.spatialMergeSize, Math.round(cfg.vision.imageSize / cfg.vision.patchSize));
  return [1, side, side];
}

/**
 * Lay segments out in rows (pure host work). Throws `bad_input` when a row overflows the context, rows exceed
 * `shape.rows`, or images exceed `shape.imageSlots`.
 * @example const layout = layoutPacked(cfg, [[a, b], [c]], { rows: 2, context: 128, imageSlots: 3 }, 0);
 */
export function layoutPacked(
  cfg: GlmvConfig,
  rows: readonly (readonly PackedSegment[])[],
  shape: PackShape,
  padId: number,
): PackedLayout {
  const { context } = shape;
  if (rows.length > shape.rows)
    throw new GlmvError("bad_input", `${rows.length} packed rows for a batch of ${shape.rows}`);
  const m2 = cfg.vision.spatialMergeSize ** 2;
  const tokens: number[][] = [];
  const segment: number[][] = [];
  const placeholder: boolean[][] = [];
  const positions: number[][][] = [];
  const places: SegmentPlace[][] = [];
  const grids: GridThw[] = [];
  const pixelParts: Float32Array[] = [];
  let realImageTokens = 0;
  for (let r = 0; r < shape.rows; r++) {
    const segs = rows[r] ?? [];
    const tok = new Array<number>(context).fill(padId);
    const seg = new Array<number>(context).fill(-1);
    const ph = new Array<boolean>(context).fill(false);
    const pos: number[][] = [0, 1, 2].map(() => new Array<number>(context).fill(0));
    const rowPlaces: SegmentPlace[] = [];
    let at = 0;
    segs.forEach((s, k) => {
      const len = s.ids.length;
      if (at + len > context)
        throw new GlmvError("bad_input", `row ${r} needs more than ${context} tokens`, { where: `row ${r}` });
      const segGrids = s.grids ?? [];
      const mediaEnd = Math.min(len, s.mediaEnd ?? len);
      const head = s.ids.slice(0, mediaEnd);
      const p = getRopeIndex([head], cfg, { imageGridThw: segGrids }).positions[0]!;
      const next = mediaEnd > 0 ? Math.max(...p.map((comp) => comp[mediaEnd - 1]!)) + 1 : 0;
      for (let i = 0; i < len; i++) {
        tok[at + i] = s.ids[i]!;
        seg[at + i] = k;
        ph[at + i] = i < mediaEnd && s.ids[i] === cfg.tokens.imageTokenId;
        for (let c = 0; c < 3; c++) pos[c]![at + i] = i < mediaEnd ? p[c]![i]! : next + i - mediaEnd;
      }
      rowPlaces.push({ row: r, start: at, length: len });
      for (const g of segGrids) {
        grids.push(g);
        realImageTokens += (g[0] * g[1] * g[2]) / m2;
      }
      if (segGrids.length > 0) {
        if (!s.pixels)
          throw new GlmvError("bad_input", "segment has grids but no pixels", { where: `row ${r}` });
        pixelParts.push(s.pixels);
      }
      at += len;
    });
    tokens.push(tok);
    segment.push(seg);
    placeholder.push(ph);
    positions.push(pos);
    places.push(rowPlaces);
  }
  if (grids.length > shape.imageSlots)
    throw new GlmvError("bad_input", `${grids.length} images for ${shape.imageSlots} image slots`);
  const v = cfg.vision;
  const rowLen = v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
  const filler = fillerGrid(cfg);
  while (grids.length < shape.imageSlots) {
    grids.push(filler);
    pixelParts.push(new Float32Array(filler[0] * filler[1] * filler[2] * rowLen));
  }
  return {
    tokens,
    segment,
    placeholder,
    positions,
    places,
    grids,
    pixels: concatFloat32(pixelParts),
    realImageTokens,
  };
}

/**
 * Block-diagonal causal mask [rows, 1, S, S] as booleans: a token sees earlier tokens of its own segment;
 * a padding slot sees only itself (so no softmax row is empty).
 */
export function packedMask(segment: readonly (readonly number[])[]): boolean[] {
  const out: boolean[] = [];
  for (const seg of segment) {
    const s = seg.length;
    for (let i = 0; i < s; i++)
      for (let j = 0; j < s; j++) out.push(seg[i]! < 0 ? i === j : j <= i && seg[j] === seg[i]);
  }
  return out;
}

/**
 * Model inputs of a layout (the caller owns the arrays).
 * @example const inputs = packedInputs(cfg, layoutPacked(cfg, rows, shape, 0));
 */
export function packedInputs(cfg: GlmvConfig, layout: PackedLayout): ModelInputs {
  const b = layout.tokens.length;
  const s = layout.tokens[0]?.length ?? 0;
  const inputs: ModelInputs = {
    tokens: np.array(Int32Array.from(layout.tokens.flat()), { shape: [b, s], dtype: np.int32 }),
    rope: textRopeArrays(cfg.text, layout.positions),
    mask: np.array(packedMask(layout.segment), { shape: [b, 1, s, s], dtype: np.bool }),
  };
  if (layout.grids.length > 0) {
    const geo = visionGeometry(layout.grids, cfg);
    const v = cfg.vision;
    const rowLen = v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
    // Real placeholders take features 0..realImageTokens−1; the fillers' features follow and are never read.
    const index = placeholderIndex(layout);
    inputs.vision = {
      pixels: np.array(layout.pixels, { shape: [geo.patches, rowLen] }),
      aux: visionAux(geo),
      featureIndex: np.array(
        Int32Array.from(index, (j) => Math.max(j, 0)),
        { shape: [b * s], dtype: np.int32 },
      ),
      isVision: np.array(
        Array.from(index, (j) => j >= 0),
        { shape: [b * s, 1], dtype: np.bool },
      ),
    };
  }
  return inputs;
}

/** Per slot: −1, or the vision feature a placeholder takes (in row/segment order). Counts must match the grids. */
function placeholderIndex(layout: PackedLayout): Int32Array {
  const out = new Int32Array(layout.placeholder.reduce((a, r) => a + r.length, 0)).fill(-1);
  let n = 0;
  let slot = 0;
  for (const row of layout.placeholder)
    for (const isPlaceholder of row) {
      if (isPlaceholder) out[slot] = n++;
      slot++;
    }
  if (n !== layout.realImageTokens)
    throw new GlmvError("bad_input", `${n} image placeholders for ${layout.realImageTokens} image features`);
  return out;
}

/**
 * Next-token targets of a layout: target at slot s is the token at s + 1 of the same segment, else 0.
 * @returns int32 [rows · context]
 */
export function packedTargets(layout: PackedLayout): Int32Array {
  const s = layout.tokens[0]?.length ?? 0;
  const out = new Int32Array(layout.tokens.length * s);
  layout.tokens.forEach((row, r) => {
    const seg = layout.segment[r]!;
    for (let i = 0; i + 1 < s; i++) if (seg[i]! >= 0 && seg[i + 1] === seg[i]) out[r * s + i] = row[i + 1]!;
  });
  return out;
}

/**
 * Spread per-token values of each segment onto target slots: slot start + k gets `values[k + 1]` (the value of
 * the token predicted there); every other slot (padding, a segment's last token) gets 0.
 * @param values per row, per segment, one number per segment token
 * @returns float [rows · context]
 * @example alignToTargets(layout, [[lossMaskOfA, lossMaskOfB]]) // loss weights on the response predictions
 */
export function alignToTargets(
  layout: PackedLayout,
  values: readonly (readonly (readonly number[])[])[],
): Float32Array {
  const s = layout.tokens[0]?.length ?? 0;
  const out = new Float32Array(layout.tokens.length * s);
  layout.places.forEach((rowPlaces, r) => {
    rowPlaces.forEach((p, k) => {
      const vals = values[r]?.[k];
      if (!vals || vals.length !== p.length)
        throw new GlmvError(
          "bad_input",
          `values of segment ${k} in row ${r} do not match its length ${p.length}`,
        );
      for (let i = 0; i + 1 < p.length; i++) out[r * s + p.start + i] = vals[i + 1]!;
    });
  });
  return out;
}

/**
 * 1 on every slot that holds a real token of a packed layout, 0 on padding: float [rows, context].
 * @example segmentValidity(layout) // [[1, 1, 1, 0, …], …]
 */
export function segmentValidity(layout: Pick<PackedLayout, "segment">): JaxArray {
  const rows = layout.segment.length;
  const s = layout.segment[0]?.length ?? 0;
  return np.array(
    Float32Array.from(layout.segment.flat(), (seg) => (seg >= 0 ? 1 : 0)),
    { shape: [rows, s] },
  );
}
