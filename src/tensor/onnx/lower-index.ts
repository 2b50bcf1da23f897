/**
 * Reductions and indexing (reduce, gather, scatter): the forms glmv's programs produce — a one-axis `take` and
 * its gradient, a scatter-add into zeros along axis 0.
 */

import { type EqnCtx, type PrimLowering, unsupported, type Val } from "./lower-core.ts";
import type { OnnxDtype } from "./proto.ts";

const REDUCE: Record<string, string> = {
  Add: "ReduceSum",
  Max: "ReduceMax",
  Min: "ReduceMin",
  Mul: "ReduceProd",
};

/** One-axis gather with the index dims where the axis was (`take` along any axis). */
function gather({ g, prim }: EqnCtx, [x, idx]: Val[], p: { axis: number[]; outDim: number }): string {
  if (p.axis.length !== 1 || p.outDim !== p.axis[0]) throw unsupported(prim, p);
  return g.one("Gather", [x!.name, idx!.name], { axis: { kind: "int", value: p.axis[0]! } });
}

/** Scatter-add into zeros along axis 0 with the index dims leading the updates (a `take`'s gradient). */
function scatter(
  { g, prim }: EqnCtx,
  [upd, idx]: Val[],
  p: { op: string; shape: number[]; axis: number[]; outDim: number },
  dtype: OnnxDtype,
): string {
  if (p.op !== "add" || p.axis.length !== 1 || p.axis[0] !== 0 || p.outDim !== 0) throw unsupported(prim, p);
  const zeros = g.one("Expand", [g.constant(dtype, [], [0]), g.ints(p.shape)]);
  const index = g.one("Unsqueeze", [
    g.one("Cast", [idx!.name], { to: { kind: "int", value: 7 } }),
    g.ints([-1]),
  ]);
  return g.one("ScatterND", [zeros, index, upd!.name], { reduction: { kind: "string", value: "add" } });
}

/** Reduction and indexing primitives by name. */
export const INDEX_OPS: Record<string, PrimLowering> = {
  reduce: ({ g, p, value, whole }) => {
    const axes = p.axis as number[];
    const [x] = whole();
    if (axes.length === 0) return [value(x!.name)];
    const op = REDUCE[p.op as string];
    if (!op) return undefined;
    return [value(g.one(op, [x!.name, g.ints(axes)], { keepdims: { kind: "int", value: 0 } }))];
  },
  gather: (c) => [c.value(gather(c, c.whole(), c.p as { axis: number[]; outDim: number }))],
  scatter: (c) => [
    c.value(
      scatter(c, c.whole(), c.p as { op: string; shape: number[]; axis: number[]; outDim: number }, c.dtype),
    ),
  ],
};
