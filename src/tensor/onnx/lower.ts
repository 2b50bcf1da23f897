/**
 * Lowering of a jax-js program (a flattened `Jaxpr`) to an ONNX graph, so onnxruntime's native kernels run what
 * jax-js traced (its autodiff included). One ONNX node or a few per equation; the primitive set is what glmv's
 * model, loss and AdamW produce (elementwise, dot, reduce, movement, gather/scatter, compare/select).
 *
 * jax-js's `broadcast` is a free view, and its autodiff writes a matmul's transpose as broadcast + `dot`
 * (sum over the last axis); materialising that broadcast in ONNX would allocate [tokens, in, out] tensors. So a
 * value here carries its real shape, which may hold 1 where the program's shape is broadcast: elementwise ops
 * and transposes keep it that way (ONNX broadcasts numpy-style), `dot` reads it to tell batch, row and column
 * axes apart and becomes one MatMul, and every other consumer expands it first.
 */
import type { Jaxpr } from "@jax-js/jax";
import { GlmvError } from "../../util/errors.ts";
import type { OnnxDtype, OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo } from "./proto.ts";

/** A constant input of the program (jax-js's closed-over arrays), with its host data. */
export type HostConst = { dtype: OnnxDtype; shape: readonly number[]; data: ArrayBufferView };

type Aval = { shape: number[]; dtype: string };
type VarLike = { id: number; aval: Aval };
type AtomLike = VarLike | { value: number; aval: Aval };
type EqnLike = { primitive: string; inputs: AtomLike[]; params: Record<string, any>; outBinders: VarLike[] };

/** A lowered value: its ONNX name, its real shape (1 on lazily broadcast axes) and the program's shape. */
type Val = { name: string; shape: number[]; full: number[]; dtype: OnnxDtype };

const UNARY: Record<string, string> = {
  neg: "Neg",
  reciprocal: "Reciprocal",
  exp: "Exp",
  log: "Log",
  sqrt: "Sqrt",
  sin: "Sin",
  cos: "Cos",
  erf: "Erf",
  floor: "Floor",
  ceil: "Ceil",
  stop_gradient: "Identity",
};
const BINARY: Record<string, string> = { add: "Add", mul: "Mul", min: "Min", max: "Max", idiv: "Div" };
const REDUCE: Record<string, string> = {
  Add: "ReduceSum",
  Max: "ReduceMax",
  Min: "ReduceMin",
  Mul: "ReduceProd",
};
const COMPARE: Record<string, string> = { less: "Less", equal: "Equal", less_equal: "LessOrEqual" };

/** jax-js dtype name → ONNX dtype. */
export function onnxDtype(dtype: string): OnnxDtype {
  if (
    dtype === "float32" ||
    dtype === "int32" ||
    dtype === "uint32" ||
    dtype === "bool" ||
    dtype === "float16"
  )
    return dtype;
  throw new GlmvError("unsupported_dtype", `no ONNX lowering for dtype ${dtype}`, { where: "lowerJaxpr" });
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Numpy broadcast of right-aligned shapes. */
function broadcastShapes(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => Math.max(...shapes.map((s) => s[s.length - rank + i] ?? 1)));
}

function bytesOf(dtype: OnnxDtype, values: number[]): Uint8Array {
  if (dtype === "float32") return new Uint8Array(Float32Array.from(values).buffer);
  if (dtype === "int32") return new Uint8Array(Int32Array.from(values).buffer);
  if (dtype === "uint32") return new Uint8Array(Uint32Array.from(values).buffer);
  if (dtype === "int64") return new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
  if (dtype === "bool" || dtype === "uint8") return Uint8Array.from(values.map((v) => (v ? 1 : 0)));
  throw new GlmvError("unsupported_dtype", `no constant encoding for ${dtype}`, { where: "lowerJaxpr" });
}

/** Builds the node list; names are fresh per graph. */
class GraphBuilder {
  nodes: OnnxNode[] = [];
  initializers: OnnxTensor[] = [];
  #next = 0;
  #constCache = new Map<string, string>();

  fresh(prefix = "t"): string {
    return `${prefix}${this.#next++}`;
  }

  node(op: string, inputs: string[], attrs: OnnxNode["attrs"] = {}, outputs = 1, domain?: string): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh());
    this.nodes.push({ op, inputs, outputs: outs, attrs, ...(domain ? { domain } : {}) });
    return outs;
  }

  one(op: string, inputs: string[], attrs: OnnxNode["attrs"] = {}): string {
    return this.node(op, inputs, attrs)[0]!;
  }

  /** A constant (deduplicated by value). */
  constant(dtype: OnnxDtype, dims: number[], values: number[]): string {
    const key = `${dtype}|${dims}|${values}`;
    let name = this.#constCache.get(key);
    if (!name) {
      name = this.fresh("c");
      this.initializers.push({ name, dtype, dims, raw: bytesOf(dtype, values) });
      this.#constCache.set(key, name);
    }
    return name;
  }

  ints(values: number[]): string {
    return this.constant("int64", [values.length], values);
  }
}

/** Lowers one program; `lower()` returns the graph. */
class Lowering {
  readonly g = new GraphBuilder();
  readonly vals = new Map<number, Val>();

  constructor(readonly jaxpr: Jaxpr) {}

  /** A variable's value, or a literal as a scalar constant of `want` (a weakly typed literal takes its operand's). */
  atom(a: AtomLike, want?: OnnxDtype): Val {
    if ("id" in a) {
      const v = this.vals.get(a.id);
      if (!v) throw new GlmvError("engine_error", `unbound variable ${a.id}`, { where: "lowerJaxpr" });
      return v;
    }
    const dtype = want ?? onnxDtype(a.aval.dtype);
    return { name: this.g.constant(dtype, [], [a.value]), shape: [], full: a.aval.shape, dtype };
  }

  /** `v` with its real rank equal to the program's rank (leading unit axes added by a Reshape). */
  ranked(v: Val): Val {
    if (v.shape.length === v.full.length) return v;
    const shape = [...new Array<number>(v.full.length - v.shape.length).fill(1), ...v.shape];
    return { ...v, name: this.g.one("Reshape", [v.name, this.g.ints(shape)]), shape };
  }

  /** `v` materialised at the program's shape. */
  expanded(v: Val): Val {
    if (same(v.shape, v.full)) return v;
    return { ...v, name: this.g.one("Expand", [v.name, this.g.ints(v.full)]), shape: v.full };
  }

  reshape(name: string, from: number[], to: number[]): string {
    return same(from, to) ? name : this.g.one("Reshape", [name, this.g.ints(to)]);
  }

  /** Transpose by `perm`, as a Reshape when only unit axes move. */
  permute(name: string, shape: number[], perm: number[]): string {
    if (perm.every((p, i) => p === i)) return name;
    const moved = perm.filter((p) => shape[p] !== 1);
    if (moved.every((p, i) => i === 0 || p > moved[i - 1]!))
      return this.reshape(
        name,
        shape,
        perm.map((p) => shape[p]!),
      );
    return this.g.one("Transpose", [name], { perm: { kind: "ints", value: perm } });
  }

  /**
   * `dot`: Σ over the last axis of x·y broadcast together, as one MatMul. Axes of the output are batch (both
   * operands hold them), rows (only x) or columns (only y); each operand is permuted to [batch, own, K].
   */
  dot(xv: Val, yv: Val, out: number[]): Val {
    const x = this.ranked(xv);
    const y = this.ranked(yv);
    const rank = Math.max(x.shape.length, y.shape.length);
    const xs = [...new Array<number>(rank - x.shape.length).fill(1), ...x.shape];
    const ys = [...new Array<number>(rank - y.shape.length).fill(1), ...y.shape];
    let xn = this.reshape(x.name, x.shape, xs);
    let yn = this.reshape(y.name, y.shape, ys);
    const k = Math.max(xs[rank - 1]!, ys[rank - 1]!);
    if (xs[rank - 1] !== ys[rank - 1])
      throw new GlmvError("engine_error", `dot over mismatched axes ${xs} · ${ys}`, { where: "lowerJaxpr" });
    const batch: number[] = [];
    const rows: number[] = [];
    const cols: number[] = [];
    for (let i = 0; i < rank - 1; i++) {
      if (xs[i] === ys[i]) batch.push(i);
      else if (ys[i] === 1) rows.push(i);
      else if (xs[i] === 1) cols.push(i);
      else throw new GlmvError("engine_error", `dot shapes ${xs} · ${ys}`, { where: "lowerJaxpr" });
    }
    const bdims = batch.map((i) => xs[i]!);
    const m = prod(rows.map((i) => xs[i]!));
    const n = prod(cols.map((i) => ys[i]!));
    // x → [batch, rows, (cols: 1), K] → [batch, M, K]; y → [batch, cols, (rows: 1), K] → [batch, N, K]
    const xPerm = [...batch, ...rows, ...cols, rank - 1];
    const yPerm = [...batch, ...cols, ...rows, rank - 1];
    xn = this.reshape(
      this.permute(xn, xs, xPerm),
      xPerm.map((p) => xs[p]!),
      [...bdims, m, k],
    );
    yn = this.reshape(
      this.permute(yn, ys, yPerm),
      yPerm.map((p) => ys[p]!),
      [...bdims, n, k],
    );
    const yt = this.g.one("Transpose", [yn], {
      perm: { kind: "ints", value: [...bdims.map((_, i) => i), bdims.length + 1, bdims.length] },
    });
    const mm = this.g.one("MatMul", [xn, yt]);
    // [batch, M, N] → [batch, rows…, cols…] → the program's axis order
    const grouped = [...batch, ...rows, ...cols];
    const groupedShape = grouped.map((i) => Math.max(xs[i]!, ys[i]!));
    let name = this.reshape(mm, [...bdims, m, n], groupedShape);
    const inverse = grouped.map((_, i) => grouped.indexOf(i));
    name = this.permute(name, groupedShape, inverse);
    const realShape = inverse.map((p) => groupedShape[p]!);
    return { name: this.reshape(name, realShape, out), shape: out, full: out, dtype: x.dtype };
  }

  eqn(e: EqnLike): Val[] {
    const g = this.g;
    const outAval = e.outBinders[0]!.aval;
    const full = outAval.shape;
    const dtype = onnxDtype(outAval.dtype);
    const prim = e.primitive;
    const varDtype = e.inputs.find((a) => "id" in a && (prim !== "where" || a !== e.inputs[0]))?.aval.dtype;
    const want = (i: number): OnnxDtype | undefined =>
      prim === "where" && i === 0 ? "bool" : varDtype ? onnxDtype(varDtype) : undefined;
    const ins = e.inputs.map((a, i) => this.atom(a, want(i)));
    const p = e.params;
    const value = (name: string, shape = full): Val => ({ name, shape, full, dtype });
    const whole = () => ins.map((v) => this.expanded(v));
    if (prim in UNARY) return [value(g.one(UNARY[prim]!, [ins[0]!.name]), ins[0]!.shape)];
    if (prim in BINARY) {
      const shape = broadcastShapes(ins[0]!.shape, ins[1]!.shape);
      // bool arithmetic is logic: × and min are "and", + and max are "or"
      const op = dtype === "bool" ? (prim === "mul" || prim === "min" ? "And" : "Or") : BINARY[prim]!;
      return [value(g.one(op, [ins[0]!.name, ins[1]!.name]), shape)];
    }
    switch (prim) {
      case "mod": {
        const shape = broadcastShapes(ins[0]!.shape, ins[1]!.shape);
        return [
          value(g.one("Mod", [ins[0]!.name, ins[1]!.name], { fmod: { kind: "int", value: 1 } }), shape),
        ];
      }
      case "cast":
        return [
          value(g.one("Cast", [ins[0]!.name], { to: { kind: "int", value: castTo(dtype) } }), ins[0]!.shape),
        ];
      case "compare": {
        const shape = broadcastShapes(ins[0]!.shape, ins[1]!.shape);
        const pair = [ins[0]!.name, ins[1]!.name];
        if (p.op === "not_equal") return [value(g.one("Not", [g.one("Equal", pair)]), shape)];
        const op = COMPARE[p.op];
        if (!op) break;
        return [value(g.one(op, pair), shape)];
      }
      case "where": {
        const shape = broadcastShapes(...ins.map((v) => v.shape));
        return [
          value(
            g.one(
              "Where",
              ins.map((v) => v.name),
            ),
            shape,
          ),
        ];
      }
      case "transpose": {
        const x = this.ranked(ins[0]!);
        const perm = p.perm as number[];
        return [
          value(
            this.permute(x.name, x.shape, perm),
            perm.map((i) => x.shape[i]!),
          ),
        ];
      }
      case "broadcast": {
        // lazy: unsqueeze now, expand only where a consumer needs the full shape
        const x = this.ranked(ins[0]!);
        const unsq = [...x.shape];
        for (const i of [...(p.axis as number[])].sort((a, b) => a - b)) unsq.splice(i, 0, 1);
        return [value(this.reshape(x.name, x.shape, unsq), unsq)];
      }
      case "dot":
        return [this.dot(ins[0]!, ins[1]!, full)];
      case "reshape": {
        const x = this.ranked(ins[0]!);
        const real = lazyReshape(x.shape, x.full, full);
        if (real) return [value(this.reshape(x.name, x.shape, real), real)];
        const [w] = whole();
        return [value(this.reshape(w!.name, w!.shape, full))];
      }
      case "reduce": {
        const axes = p.axis as number[];
        const [x] = whole();
        if (axes.length === 0) return [value(x!.name)];
        const op = REDUCE[p.op as string];
        if (!op) break;
        const keep = { keepdims: { kind: "int" as const, value: 0 } };
        return [value(g.one(op, [x!.name, g.ints(axes)], keep))];
      }
      case "shrink": {
        const [x] = whole();
        const slice = p.slice as [number, number][];
        const axes = slice.map((_, i) => i).filter((i) => slice[i]![0] !== 0 || slice[i]![1] !== x!.shape[i]);
        if (axes.length === 0) return [value(x!.name)];
        const starts = g.ints(axes.map((i) => slice[i]![0]));
        const ends = g.ints(axes.map((i) => slice[i]![1]));
        return [value(g.one("Slice", [x!.name, starts, ends, g.ints(axes)]))];
      }
      case "pad": {
        const [x] = whole();
        const width = p.width as [number, number][];
        const pads = g.ints([...width.map((w) => w[0]), ...width.map((w) => w[1])]);
        return [value(g.one("Pad", [x!.name, pads, g.constant(dtype, [], [0])]))];
      }
      case "flip": {
        const [x] = whole();
        const axes = p.axis as number[];
        const starts = g.ints(axes.map(() => -1));
        const ends = g.ints(axes.map((i) => -x!.shape[i]! - 1));
        const steps = g.ints(axes.map(() => -1));
        return [value(g.one("Slice", [x!.name, starts, ends, g.ints(axes), steps]))];
      }
      case "concatenate":
        return [
          value(
            g.one(
              "Concat",
              whole().map((v) => v.name),
              { axis: { kind: "int", value: p.axis } },
            ),
          ),
        ];
      case "split": {
        const [x] = whole();
        const sizes = p.sizes as number[];
        const outs = g.node(
          "Split",
          [x!.name, g.ints(sizes)],
          { axis: { kind: "int", value: p.axis } },
          sizes.length,
        );
        return outs.map((name, i) => ({
          name,
          shape: e.outBinders[i]!.aval.shape,
          full: e.outBinders[i]!.aval.shape,
          dtype,
        }));
      }
      case "gather":
        return [value(this.gather(whole(), p as { axis: number[]; outDim: number }))];
      case "scatter":
        return [
          value(
            this.scatter(
              whole(),
              p as { op: string; shape: number[]; axis: number[]; outDim: number },
              dtype,
            ),
          ),
        ];
    }
    throw new GlmvError("engine_error", `no ONNX lowering for ${prim} ${JSON.stringify(p)}`, {
      where: "lowerJaxpr",
    });
  }

  /** One-axis gather with the index dims where the axis was (`take` along any axis). */
  gather([x, idx]: Val[], p: { axis: number[]; outDim: number }): string {
    if (p.axis.length !== 1 || p.outDim !== p.axis[0])
      throw new GlmvError("engine_error", `gather over axes ${p.axis} to ${p.outDim}`, {
        where: "lowerJaxpr",
      });
    return this.g.one("Gather", [x!.name, idx!.name], { axis: { kind: "int", value: p.axis[0]! } });
  }

  /** Scatter-add into zeros along axis 0 with the index dims leading the updates (a `take`'s gradient). */
  scatter(
    [upd, idx]: Val[],
    p: { op: string; shape: number[]; axis: number[]; outDim: number },
    dtype: OnnxDtype,
  ): string {
    if (p.op !== "add" || p.axis.length !== 1 || p.axis[0] !== 0 || p.outDim !== 0)
      throw new GlmvError("engine_error", `scatter ${JSON.stringify(p)}`, { where: "lowerJaxpr" });
    const g = this.g;
    const zeros = g.one("Expand", [g.constant(dtype, [], [0]), g.ints(p.shape)]);
    const index = g.one("Unsqueeze", [
      g.one("Cast", [idx!.name], { to: { kind: "int", value: 7 } }),
      g.ints([-1]),
    ]);
    return g.one("ScatterND", [zeros, index, upd!.name], { reduction: { kind: "string", value: "add" } });
  }
}

/**
 * The real shape after reshaping `full` to `to` while some axes are lazily broadcast (real 1, full > 1), or
 * undefined when a group of merged or split axes mixes broadcast and real axes (the value must be expanded).
 */
export function lazyReshape(
  real: readonly number[],
  full: readonly number[],
  to: readonly number[],
): number[] | undefined {
  if (same(real, full)) return [...to];
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < full.length || j < to.length) {
    // one group: the shortest runs of axes on both sides with equal products
    const gi = [i];
    const gj = [j];
    let pi = full[i] ?? 1;
    let pj = to[j] ?? 1;
    i++;
    j++;
    while (pi !== pj) {
      if (pi < pj) {
        if (i >= full.length) return undefined;
        gi.push(i);
        pi *= full[i++]!;
      } else {
        if (j >= to.length) return undefined;
        gj.push(j);
        pj *= to[j++]!;
      }
    }
    const ins = gi.filter((k) => k < full.length);
    const outs = gj.filter((k) => k < to.length);
    const isReal = ins.every((k) => real[k] === full[k]);
    const isBroadcast = ins.every((k) => real[k] === 1);
    if (!isReal && !isBroadcast) return undefined;
    for (const k of outs) out.push(isReal ? to[k]! : 1);
  }
  return out.length === to.length ? out : undefined;
}

function castTo(dtype: OnnxDtype): number {
  return { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10, uint32: 12 }[dtype];
}

/** Whether every element of a constant equals its first (zeros, ones): emitted as an Expand, not as data. */
function uniformValue(c: HostConst): number | undefined {
  const d = c.data as unknown as ArrayLike<number>;
  if (d.length === 0) return 0;
  const first = d[0]!;
  for (let i = 1; i < d.length; i++) if (d[i] !== first) return undefined;
  return Number(first);
}

/**
 * Lower a flattened jaxpr whose first `consts.length` binders are the given constants; the rest become graph
 * inputs `in0…`, the outputs `out0…`.
 */
export function lowerJaxpr(jaxpr: Jaxpr, consts: readonly HostConst[]): OnnxGraph {
  const low = new Lowering(jaxpr);
  const g = low.g;
  const binders = jaxpr.inBinders as unknown as VarLike[];
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
  for (const e of jaxpr.eqns as unknown as EqnLike[]) {
    const outs = low.eqn(e);
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
