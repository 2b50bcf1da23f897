/**
 * A minimal protobuf writer for the part of ONNX's ModelProto the lowering emits (graph, nodes, attributes,
 * tensors, value infos, opset imports). Field numbers are those of onnx/onnx.proto; only proto3 wire types 0
 * (varint), 2 (length-delimited) and 5 (fixed32) are needed. Written here because the schema slice is small and
 * a generic protobuf library would be the larger dependency.
 */

/** ONNX TensorProto.DataType values for the dtypes jax-js programs carry. */
export const OnnxDataType = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  uint32: 12,
} as const;
export type OnnxDtype = keyof typeof OnnxDataType;

/** A growable byte buffer with protobuf field writers. */
class Writer {
  #buf = new Uint8Array(256);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    this.#reserve(10);
    while (x >= 0x80n) {
      this.#buf[this.#len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.#buf[this.#len++] = Number(x);
    return this;
  }

  tag(field: number, wire: 0 | 2 | 5): this {
    return this.varint((field << 3) | wire);
  }

  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    this.#reserve(data.length);
    this.#buf.set(data, this.#len);
    this.#len += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    this.#reserve(4);
    new DataView(this.#buf.buffer).setFloat32(this.#len, v, true);
    this.#len += 4;
    return this;
  }

  /** A nested message. */
  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

/** A node attribute: int, float, ints, or a tensor. */
export type OnnxAttr =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "ints"; value: readonly number[] }
  | { kind: "string"; value: string }
  | { kind: "tensor"; value: OnnxTensor };

export type OnnxNode = {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs?: Record<string, OnnxAttr>;
  domain?: string;
};

/** A constant tensor (an initializer or a Constant node's value); `raw` is little-endian element data. */
export type OnnxTensor = { name: string; dtype: OnnxDtype; dims: readonly number[]; raw: Uint8Array };

export type OnnxValueInfo = { name: string; dtype: OnnxDtype; dims: readonly number[] };

export type OnnxGraph = {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
};

function writeTensor(w: Writer, t: OnnxTensor): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, OnnxDataType[t.dtype]);
  w.string(8, t.name);
  w.bytes(9, t.raw);
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, ints: 7 } as const;

function writeAttr(w: Writer, name: string, a: OnnxAttr): void {
  w.string(1, name);
  if (a.kind === "float") w.float(2, a.value);
  else if (a.kind === "int") w.int(3, a.value);
  else if (a.kind === "string") w.string(4, a.value);
  else if (a.kind === "tensor") w.message(5, (t) => writeTensor(t, a.value));
  else for (const v of a.value) w.int(8, v);
  w.int(20, ATTR_TYPE[a.kind]);
}

function writeValueInfo(w: Writer, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, OnnxDataType[v.dtype]);
      tensor.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => dim.int(1, d));
      });
    }),
  );
}

/**
 * Serialise a graph as an ONNX ModelProto (IR version 8, the default opset `opset`, and Microsoft's contrib
 * domain for ORT's fused kernels).
 */
export function encodeModel(graph: OnnxGraph, opset: number): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, "glmv");
  w.message(7, (g) => {
    for (const n of graph.nodes)
      g.message(1, (node) => {
        for (const i of n.inputs) node.string(1, i);
        for (const o of n.outputs) node.string(2, o);
        node.string(4, n.op);
        for (const [name, a] of Object.entries(n.attrs ?? {})) node.message(5, (x) => writeAttr(x, name, a));
        if (n.domain) node.string(7, n.domain);
      });
    g.string(2, graph.name);
    for (const t of graph.initializers) g.message(5, (x) => writeTensor(x, t));
    for (const v of graph.inputs) g.message(11, (x) => writeValueInfo(x, v));
    for (const v of graph.outputs) g.message(12, (x) => writeValueInfo(x, v));
  });
  w.message(8, (o) => o.string(1, "").int(2, opset));
  w.message(8, (o) => o.string(1, "com.microsoft").int(2, 1));
  return w.finish();
}
