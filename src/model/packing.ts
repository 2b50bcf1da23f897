import { GlmvError } from "../util/errors.ts";

/** Micro-batches of sequence indices, each fitting in a fixed context of `context` tokens. */
export type Packing = {
  microBatches: number[][];
  /** Tokens used / (micro-batches × context). */
  fill: number;
};

/**
 * Pack sequences into as few fixed-context micro-batches as possible (§5.4: sequence packing with gradient
 * accumulation; repacking within a rank minimises micro-steps). First-fit decreasing, which is within 11/9 of
 * the optimum; a sequence longer than the context is a typed error, never silently truncated.
 */
export function packSequences(lengths: readonly number[], context: number): Packing {
  const bins: { free: number; items: number[] }[] = [];
  const order = lengths.map((len, i) => ({ len, i })).sort((a, b) => b.len - a.len || a.i - b.i);
  for (const { len, i } of order) {
    if (len > context) {
      throw new GlmvError(
        "bad_input",
        `sequence ${i} has ${len} tokens, more than the context of ${context}`,
        {
          where: `sequence ${i}`,
        },
      );
    }
    const bin = bins.find((b) => b.free >= len);
    if (bin) {
      bin.free -= len;
      bin.items.push(i);
    } else bins.push({ free: context - len, items: [i] });
  }
  const used = lengths.reduce((a, b) => a + b, 0);
  return {
    microBatches: bins.map((b) => b.items),
    fill: bins.length > 0 ? used / (bins.length * context) : 1,
  };
}

/** The least possible number of micro-batches: no packing can beat ceil(total tokens / context). */
export const packingLowerBound = (lengths: readonly number[], context: number): number =>
  Math.ceil(lengths.reduce((a, b) => a + b, 0) / context);
