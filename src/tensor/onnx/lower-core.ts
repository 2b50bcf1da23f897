/**
 * The lowering's shared parts (lower.ts): value and equation types, the ONNX graph builder, and the `Lowering`
 * state (bound values plus the shape helpers every primitive family uses: rank-align, expand, reshape, permute).
 *
 * A value carries its real shape, which may hold 1 where the program's shape is broadcast (jax-js's `broadcast`
 * is a free view, kept lazy here): elementwise ops keep it that way and other consumers expand it first.
 */
import type { Jaxpr } from "@jax-js/jax";
import { GlmvError } from "../../util/errors.ts";
import type { OnnxDtype, OnnxNode, OnnxTensor } from "./proto.ts";

/** A constant input of the program (jax-js's closed-over arrays), with its host data. */
export type HostConst = { dtype: OnnxDtype; shape: readonly number[]; data: ArrayBufferView };

type Aval = { shape: number[]; dtype: string };
export type VarLike = { id: number; aval: Aval };
export type AtomLike = VarLike | { value: number; aval: Aval };
export type EqnLike = {
  primitive: string;
  inputs: AtomLike[];
  // biome-ignore lint/suspicious/noExplicitAny: a jaxpr equation's params differ per primitive (axes, shapes, dtypes)
  params: Record<string, any>;
  outBinders: VarLike[];
};

/** A lowered value: its ONNX name, its real shape (1 on lazily broadcast axes) and the program's shape. */
export type Val = { name: string; shape: number[]; full: number[]; dtype: OnnxDtype };

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

export const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
export const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Numpy broadcast of right-aligned shapes. */
export function broadcastShapes(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => Math.max(...shapes.map((s) => s[s.length - rank + i] ?? 1)));
}

/** ONNX TensorProto.DataType of a Cast target. */
export function castTo(dtype: OnnxDtype): number {
  return { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10, uint32: 12 }[dtype];
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
export class GraphBuilder {
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

/** One program's lowering state: the graph and the value bound to each jaxpr variable. */
export class Lowering {
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
}

/** One equation being lowered: its operands, params, output shape and dtype, and value makers. */
export type EqnCtx = {
  low: Lowering;
  g: GraphBuilder;
  e: EqnLike;
  prim: string;
  ins: Val[];
  // biome-ignore lint/suspicious/noExplicitAny: as above: the equation's own params
  p: Record<string, any>;
  full: number[];
  dtype: OnnxDtype;
  /** A value of the output's program shape with real shape `shape` (default: the full shape). */
  value(name: string, shape?: number[]): Val;
  /** The operands materialised at their program shapes. */
  whole(): Val[];
};

/** A primitive family's lowering: the outputs, or undefined when these params are not supported. */
export type PrimLowering = (c: EqnCtx) => Val[] | undefined;

/** An "unsupported" error for one equation. */
export function unsupported(prim: string, p: unknown): GlmvError {
  return new GlmvError("engine_error", `no ONNX lowering for ${prim} ${JSON.stringify(p)}`, {
    where: "lowerJaxpr",
  });
}
