/**
 * Reductions and indexing (reduce, gather, scatter): the forms glmv's programs produce — a one-axis `take` and
 * its gradient, a scatter-add into zeros along axis 0 (lowered as a one-hot matmul).
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

/** Largest one-hot matrix (rows × updates) a scatter-add may build: 1 GiB of float32. */
const MAX_ONE_HOT = 2 ** 28;

/**
 * Scatter-add into zeros along axis 0 with the index dims leading the updates (a `take`'s gradient), as
 * OneHot(idx)ᵀ · updates: onnxruntime's ScatterND with reduction "add" loses updates to repeated indices when it
 * runs on more than one thread (measured: a token seen 34 times summed to 33), a matmul sums each row exactly and
 * in a fixed order.
 */
function scatter(
  { g, prim }: EqnCtx,
  [upd, idx]: Val[],
  p: { op: string; shape: number[]; axis: number[]; outDim: number },
  dtype: OnnxDtype,
): string {
  if (p.op !== "add" || p.axis.length !== 1 || p.axis[0] !== 0 || p.outDim !== 0) throw unsupported(prim, p);
  const rows = p.shape[0]!;
  const count = idx!.full.reduce((a, b) => a * b, 1);
  const width = p.shape.slice(1).reduce((a, b) => a * b, 1);
  if (rows * count > MAX_ONE_HOT) throw unsupported(prim, { ...p, oneHot: `${rows}×${count}` });
  // [rows, count]: column k is the one-hot of update k's index (int64 indices: the kernel onnxruntime has)
  const oneHot = g.one(
    "OneHot",
    [
      g.one("Cast", [g.one("Reshape", [idx!.name, g.ints([count])])], { to: { kind: "int", value: 7 } }),
      g.constant("int64", [], [rows]),
      g.constant(dtype, [2], [0, 1]),
    ],
    { axis: { kind: "int", value: 0 } },
  );
  const flat = g.one("Reshape", [upd!.name, g.ints([count, width])]);
  return g.one("Reshape", [g.one("MatMul", [oneHot, flat]), g.ints(p.shape)]);
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
