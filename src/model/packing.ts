/**
 * The packer's host side, one module for every trainer and scorer (§5.4: sequence packing with gradient
 * accumulation): which sequences share a row of the fixed context, and which rows share a call. RL updates,
 * scoring and the trainer server pack a known set first-fit decreasing (`packSequences`), then cut rows to their
 * image slots and group them into fixed-size calls (`planCalls`); SFT fills its steps first-fit from an endless
 * shuffled stream (`createPackedStream`). Both place a sequence in the first row with room (`firstFit`).
 */
import { GlmvError } from "../util/errors.ts";
import { createRng } from "../util/rng.ts";

/** Micro-batches of sequence indices, each fitting in a fixed context of `context` tokens. */
export type Packing = {
  microBatches: number[][];
  /** Tokens used / (micro-batches × context). */
  fill: number;
};

/** The index of the first row with at least `len` tokens free, or −1. */
const firstFit = (free: readonly number[], len: number): number => free.findIndex((f) => f >= len);

/** A typed error for a sequence that no row of `context` tokens can hold (never silently truncated). */
function checkLengths(lengths: readonly number[], context: number, what: string): void {
  for (const [i, len] of lengths.entries())
    if (len > context)
      throw new GlmvError(
        "bad_input",
        `${what} ${i} has ${len} tokens, more than the context of ${context}`,
        {
          where: `${what} ${i}`,
        },
      );
}

/**
 * Pack sequences into as few fixed-context micro-batches as possible (repacking within a rank minimises
 * micro-steps). First-fit decreasing, which is within 11/9 of the optimum; a sequence longer than the context is
 * a typed error.
 */
export function packSequences(lengths: readonly number[], context: number): Packing {
  checkLengths(lengths, context, "sequence");
  const free: number[] = [];
  const bins: number[][] = [];
  const order = lengths.map((len, i) => ({ len, i })).sort((a, b) => b.len - a.len || a.i - b.i);
  for (const { len, i } of order) {
    const at = firstFit(free, len);
    if (at >= 0) {
      free[at]! -= len;
      bins[at]!.push(i);
    } else {
      free.push(context - len);
      bins.push([i]);
    }
  }
  const used = lengths.reduce((a, b) => a + b, 0);
  return { microBatches: bins, fill: bins.length > 0 ? used / (bins.length * context) : 1 };
}

/** The least possible number of micro-batches: no packing can beat ceil(total tokens / context). */
export const packingLowerBound = (lengths: readonly number[], context: number): number =>
  Math.ceil(lengths.reduce((a, b) => a + b, 0) / context);

/** Fixed shape of a packed batch: `rows` rows of `context` tokens, and `imageSlots` images for the vision tower. */
export type PackShape = { rows: number; context: number; imageSlots: number };

/**
 * An endless stream of sequence indices, reshuffled each epoch from the seed, cut into packed steps of
 * `shape.rows` rows: sequences fill the rows first-fit in stream order until the next one fits nowhere (or the
 * image slots run out); it then opens the next step, so no sequence is skipped.
 * @example const next = createPackedStream(lengths, images, { rows: 12, context: 256, imageSlots: 84 }, 1); next()
 */
export function createPackedStream(
  lengths: readonly number[],
  images: readonly number[],
  shape: PackShape,
  seed: number,
): () => number[][] {
  checkLengths(lengths, shape.context, "example");
  const rng = createRng(seed);
  let order: number[] = [];
  let at = 0;
  const peek = (): number => {
    if (at >= order.length) {
      order = lengths.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      at = 0;
    }
    return order[at]!;
  };
  return () => {
    const rows: number[][] = Array.from({ length: shape.rows }, () => []);
    const free = rows.map(() => shape.context);
    let slots = shape.imageSlots;
    for (;;) {
      const i = peek();
      const row = firstFit(free, lengths[i]!);
      if (row < 0 || images[i]! > slots) break;
      rows[row]!.push(i);
      free[row]! -= lengths[i]!;
      slots -= images[i]!;
      at++;
    }
    if (rows.every((r) => r.length === 0))
      throw new GlmvError("bad_input", "an example needs more image slots than a step has");
    return rows;
  };
}

/** How rows go to the model: `rowsPerCall` rows per call, each with at most `imagesPerRow` images (and segments). */
export type CallShape = { rowsPerCall: number; imagesPerRow: number; segmentsPerRow?: number | undefined };

/**
 * Rows of packed micro-batches cut to the image slots (and segment bound) of a row, grouped `rowsPerCall` rows
 * per call (the last call short; its layout pads it with empty rows).
 * @param images how many images sequence i carries
 * @returns calls → rows → sequence indices
 * @example planCalls([[0, 1, 2]], () => 1, { rowsPerCall: 2, imagesPerRow: 2 }) // [[[0, 1], [2]]]
 */
export function planCalls(
  microBatches: readonly (readonly number[])[],
  images: (i: number) => number,
  shape: CallShape,
): number[][][] {
  const { segmentsPerRow } = shape;
  const rows = microBatches
    .flatMap((m) => splitByImages(m, images, shape.imagesPerRow))
    .flatMap((m) => (segmentsPerRow === undefined ? [m] : splitByImages(m, () => 1, segmentsPerRow)));
  return chunk(rows, shape.rowsPerCall);
}

/**
 * Split a micro-batch (sequence indices) into consecutive pieces of at most `slots` images each, so short
 * sequences packed densely never overflow a row's image slots. Empty input gives no pieces.
 * @example splitByImages([0, 1, 2], () => 1, 2) // [[0, 1], [2]]
 */
export function splitByImages(
  indices: readonly number[],
  images: (i: number) => number,
  slots: number,
): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let used = 0;
  for (const i of indices) {
    const n = images(i);
    if (n > slots) throw new GlmvError("bad_input", `a sequence has ${n} images, more than ${slots} per row`);
    if (used + n > slots && cur.length > 0) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(i);
    used += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Consecutive pieces of at most `size` items. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
