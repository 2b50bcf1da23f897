/**
 * `dot` as one MatMul. jax-js's autodiff writes a matmul's transpose as broadcast + `dot` (Σ over the last
 * axis); with broadcasts kept lazy (lower-core.ts), the operands' real shapes tell batch, row and column axes
 * apart, so no [tokens, in, out] tensor is ever materialised.
 */
import { GlmvError } from "../../util/errors.ts";
import { type Lowering, type PrimLowering, prod, type Val } from "./lower-core.ts";

/** Axes of x·y (both right-aligned to `rank`) by role: batch (both hold them), rows (only x), columns (only y). */
function axisRoles(
  xs: number[],
  ys: number[],
  rank: number,
): { batch: number[]; rows: number[]; cols: number[] } {
  const batch: number[] = [];
  const rows: number[] = [];
  const cols: number[] = [];
  for (let i = 0; i < rank - 1; i++) {
    if (xs[i] === ys[i]) batch.push(i);
    else if (ys[i] === 1) rows.push(i);
    else if (xs[i] === 1) cols.push(i);
    else throw new GlmvError("engine_error", `dot shapes ${xs} · ${ys}`, { where: "lowerJaxpr" });
  }
  return { batch, rows, cols };
}

/**
 * Σ over the last axis of x·y broadcast together, as one MatMul; each operand is permuted to [batch, own, K].
 */
export function lowerDot(low: Lowering, xv: Val, yv: Val, out: number[]): Val {
  const x = low.ranked(xv);
  const y = low.ranked(yv);
  const rank = Math.max(x.shape.length, y.shape.length);
  const xs = [...new Array<number>(rank - x.shape.length).fill(1), ...x.shape];
  const ys = [...new Array<number>(rank - y.shape.length).fill(1), ...y.shape];
  const k = Math.max(xs[rank - 1]!, ys[rank - 1]!);
  if (xs[rank - 1] !== ys[rank - 1])
    throw new GlmvError("engine_error", `dot over mismatched axes ${xs} · ${ys}`, { where: "lowerJaxpr" });
  const { batch, rows, cols } = axisRoles(xs, ys, rank);
  const bdims = batch.map((i) => xs[i]!);
  const m = prod(rows.map((i) => xs[i]!));
  const n = prod(cols.map((i) => ys[i]!));
  // x → [batch, rows, (cols: 1), K] → [batch, M, K]; y → [batch, cols, (rows: 1), K] → [batch, N, K]
  const xPerm = [...batch, ...rows, ...cols, rank - 1];
  const yPerm = [...batch, ...cols, ...rows, rank - 1];
  const xn = low.reshape(
    low.permute(low.reshape(x.name, x.shape, xs), xs, xPerm),
    xPerm.map((p) => xs[p]!),
    [...bdims, m, k],
  );
  const yn = low.reshape(
    low.permute(low.reshape(y.name, y.shape, ys), ys, yPerm),
    yPerm.map((p) => ys[p]!),
    [...bdims, n, k],
  );
  const yt = low.g.one("Transpose", [yn], {
    perm: { kind: "ints", value: [...bdims.map((_, i) => i), bdims.length + 1, bdims.length] },
  });
  const mm = low.g.one("MatMul", [xn, yt]);
  // [batch, M, N] → [batch, rows…, cols…] → the program's axis order
  const grouped = [...batch, ...rows, ...cols];
  const groupedShape = grouped.map((i) => Math.max(xs[i]!, ys[i]!));
  let name = low.reshape(mm, [...bdims, m, n], groupedShape);
  const inverse = grouped.map((_, i) => grouped.indexOf(i));
  name = low.permute(name, groupedShape, inverse);
  const realShape = inverse.map((p) => groupedShape[p]!);
  return { name: low.reshape(name, realShape, out), shape: out, full: out, dtype: x.dtype };
}

/** `dot` by name. */
export const DOT_OPS: Record<string, PrimLowering> = {
  dot: ({ low, ins, full }) => [lowerDot(low, ins[0]!, ins[1]!, full)],
};
