/**
 * Lowering of a jax-js program (a flattened `Jaxpr`) to an ONNX graph, so onnxruntime's native kernels run what
 * jax-js traced (its autodiff included). One ONNX node or a few per equation; the primitive set is what glmv's
 * model, loss and AdamW produce, one module per family: elementwise (lower-elementwise.ts), movement
 * (lower-shape.ts), dot (lower-dot.ts), reductions and gather/scatter (lower-index.ts); shared state and helpers
 * in lower-core.ts.
 *
 * jax-js's `broadcast` is a free view, and its autodiff writes a matmul's transpose as broadcast + `dot`
 * (sum over the last axis); materialising that broadcast in ONNX would allocate [tokens, in, out] tensors. So a
 * value here carries its real shape, which may hold 1 where the program's shape is broadcast: elementwise ops
 * and transposes keep it that way (ONNX broadcasts numpy-style), `dot` reads it to tell batch, row and column
 * axes apart and becomes one MatMul, and every other consumer expands it first.
 */
import type { Jaxpr } from "@jax-js/jax";
import {
  type AtomLike,
  type EqnCtx,
  type EqnLike,
  type HostConst,
  Lowering,
  onnxDtype,
  type PrimLowering,
  unsupported,
  type Val,
  type VarLike,
} from "./lower-core.ts";
import { DOT_OPS } from "./lower-dot.ts";
import { ELEMENTWISE } from "./lower-elementwise.ts";
import { INDEX_OPS } from "./lower-index.ts";
import { SHAPE_OPS } from "./lower-shape.ts";
import type { OnnxDtype, OnnxGraph, OnnxValueInfo } from "./proto.ts";

export { type HostConst, onnxDtype } from "./lower-core.ts";
export { lazyReshape } from "./lower-shape.ts";

/** Every supported primitive's lowering. */
const PRIMITIVES: Record<string, PrimLowering> = { ...ELEMENTWISE, ...SHAPE_OPS, ...DOT_OPS, ...INDEX_OPS };

/** Lower one equation: bind its operands (literals typed like their variable operand) and dispatch by family. */
function lowerEqn(low: Lowering, e: EqnLike): Val[] {
  const outAval = e.outBinders[0]!.aval;
  const full = outAval.shape;
  const dtype = onnxDtype(outAval.dtype);
  const prim = e.primitive;
  const varDtype = e.inputs.find((a) => "id" in a && (prim !== "where" || a !== e.inputs[0]))?.aval.dtype;
  const want = (i: number): OnnxDtype | undefined =>
    prim === "where" && i === 0 ? "bool" : varDtype ? onnxDtype(varDtype) : undefined;
  const ins = e.inputs.map((a, i) => low.atom(a, want(i)));
  const ctx: EqnCtx = {
    low,
    g: low.g,
    e,
    prim,
    ins,
    p: e.params,
    full,
    dtype,
    value: (name, shape = full) => ({ name, shape, full, dtype }),
    whole: () => ins.map((v) => low.expanded(v)),
  };
  const out = PRIMITIVES[prim]?.(ctx);
  if (!out) throw unsupported(prim, e.params);
  return out;
}

/** Whether every element of a constant equals its first (zeros, ones): emitted as an Expand, not as data. */
function uniformValue(c: HostConst): number | undefined {
  const d = c.data as unknown as ArrayLike<number>;
  if (d.length === 0) return 0;
  const first = d[0]!;
  for (let i = 1; i < d.length; i++) if (d[i] !== first) return undefined;
  return Number(first);
}

/** Bind the program's binders: the first `consts.length` as initializers (or Expands), the rest as inputs. */
function bindInputs(low: Lowering, binders: VarLike[], consts: readonly HostConst[]): OnnxValueInfo[] {
  const g = low.g;
  const inputs: OnnxValueInfo[] = [];
  binders.forEach((b, i) => {
    const dtype = onnxDtype(b.aval.dtype);
    const shape = b.aval.shape;
    let name: string;
    if (i < consts.length) {
      const c = consts[i]!;
      const u = uniformValue(c);
      if (u !== undefined) name = g.one("Expand", [g.constant(dtype, [], [u]), g.ints(shape)]);
      else {
        name = g.fresh("k");
        const raw = new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength).slice();
        g.initializers.push({ name, dtype, dims: shape, raw });
      }
    } else {
      name = `in${i - consts.length}`;
      inputs.push({ name, dtype, dims: shape });
    }
    low.vals.set(b.id, { name, shape, full: shape, dtype });
  });
  return inputs;
}

/**
 * Lower a flattened jaxpr whose first `consts.length` binders are the given constants; the rest become graph
 * inputs `in0…`, the outputs `out0…`.
 */
export function lowerJaxpr(jaxpr: Jaxpr, consts: readonly HostConst[]): OnnxGraph {
  const low = new Lowering(jaxpr);
  const g = low.g;
  const inputs = bindInputs(low, jaxpr.inBinders as unknown as VarLike[], consts);
  for (const e of jaxpr.eqns as unknown as EqnLike[]) {
    const outs = lowerEqn(low, e);
    for (const [i, b] of e.outBinders.entries()) low.vals.set(b.id, outs[i]!);
  }
  const outputs: OnnxValueInfo[] = (jaxpr.outs as unknown as AtomLike[]).map((a, i) => {
    const v = low.expanded(low.atom(a));
    const name = `out${i}`;
    g.nodes.push({ op: "Identity", inputs: [v.name], outputs: [name] });
    return { name, dtype: v.dtype, dims: v.full };
  });
  return { name: "glmv", nodes: g.nodes, initializers: g.initializers, inputs, outputs };
}
