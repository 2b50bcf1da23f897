/**
 * Native programs: a jax-js function traced once per argument shapes (`makeJaxpr`), lowered to ONNX
 * (lower.ts) and run by onnxruntime-node's CPU kernels with `threads` intra-op threads. Inputs and outputs are
 * host arrays in the order of the flattened argument and result trees, so state that lives on the host side
 * (weights, optimiser moments) goes in and comes out without passing through jax-js.
 *
 * onnxruntime-node is loaded on first use (`loadOnnxRuntime`), so glmv runs without it (jax-js then stays the
 * engine).
 */
import { type Array as JaxArray, type JsTree, type JsTreeDef, makeJaxpr } from "@jax-js/jax";
import { GlmvError } from "../../util/errors.ts";
import { type HostConst, lowerJaxpr, onnxDtype } from "./lower.ts";
import { encodeModel, type OnnxDtype } from "./proto.ts";

type Ort = typeof import("onnxruntime-node");

/** A host array: data and shape (dtype follows the typed array; bool is a Uint8Array). */
export type HostArray = {
  data: Float32Array | Int32Array | Uint32Array | Uint8Array;
  shape: readonly number[];
  dtype: OnnxDtype;
};

let ort: Promise<Ort | undefined> | undefined;

/** onnxruntime-node, or undefined when it is not installed or its native binding does not load. */
export function loadOnnxRuntime(): Promise<Ort | undefined> {
  ort ??= import("onnxruntime-node").then(
    (m) => ((m as { default?: Ort }).default ?? m) as Ort,
    () => undefined,
  );
  return ort;
}

/** The ONNX opset the lowering targets (Reduce* with axes as an input, ScatterND with reduction). */
const OPSET = 18;

/** A compiled native program. */
export type NativeProgram = {
  /** Run on flattened inputs (the argument tree's leaves in order); returns the result tree's leaves. */
  run(inputs: readonly HostArray[]): Promise<HostArray[]>;
  /** The result tree's structure (to `tree.unflatten` the outputs). */
  readonly outTree: JsTreeDef;
  /** Equations in the traced program (for reports). */
  readonly equations: number;
  /** Primitive → count in the traced program. */
  readonly primitives: Record<string, number>;
  dispose(): Promise<void>;
};

/** Host copy of a jax-js array (its reference is consumed). */
export async function toHost(a: JaxArray): Promise<HostArray> {
  const dtype = onnxDtype(a.dtype);
  const shape = a.shape;
  const raw = (await a.data()) as Float32Array | Int32Array | Uint32Array | Uint8Array;
  const data =
    dtype === "bool" && !(raw instanceof Uint8Array) ? Uint8Array.from(raw as ArrayLike<number>) : raw;
  return { data, shape, dtype };
}

function constOf(c: unknown): HostConst {
  const a = c as JaxArray;
  const dtype = onnxDtype(a.dtype);
  let data = a.ref.dataSync() as ArrayBufferView;
  if (dtype === "bool" && !(data instanceof Uint8Array))
    data = Uint8Array.from(data as unknown as ArrayLike<number>);
  return { dtype, shape: a.shape, data };
}

/**
 * Trace `fn` on `args` (borrowed: their shapes and dtypes fix the program), lower it and open an
 * onnxruntime session with `threads` intra-op threads.
 * @example const p = await compileNative((x, y) => np.matmul(x, y), [a, b], { threads: 2 });
 */
export async function compileNative(
  // biome-ignore lint/suspicious/noExplicitAny: jax-js traces functions of any array-tree arguments
  fn: (...args: any[]) => JsTree<JaxArray>,
  args: readonly JsTree<JaxArray>[],
  opts: { threads: number },
): Promise<NativeProgram> {
  const rt = await loadOnnxRuntime();
  if (!rt)
    throw new GlmvError("engine_error", "onnxruntime-node is not available", { where: "compileNative" });
  // makeJaxpr reads only shapes and dtypes: it neither consumes nor keeps its arguments
  const { jaxpr: closed, treedef } = makeJaxpr(fn)(...(args as never[]));
  const jaxpr = closed.jaxpr.flatten().simplify();
  const consts = closed.consts.map(constOf);
  closed.dispose();
  const primitives: Record<string, number> = {};
  for (const e of jaxpr.eqns) primitives[e.primitive] = (primitives[e.primitive] ?? 0) + 1;
  const graph = lowerJaxpr(jaxpr, consts);
  const model = encodeModel(graph, OPSET);
  const session = await rt.InferenceSession.create(model, {
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
    // idle intra-op threads sleep instead of spinning: jax-js (scoring, generation) runs between native steps
    extra: { session: { intra_op: { allow_spinning: "0" } } },
    ...(process.env.GLMV_ONNX_PROFILE
      ? { enableProfiling: true, profileFilePrefix: process.env.GLMV_ONNX_PROFILE }
      : {}),
  });
  const inputNames = graph.inputs.map((v) => v.name);
  const outputNames = graph.outputs.map((v) => v.name);
  return {
    outTree: treedef,
    equations: jaxpr.eqns.length,
    primitives,
    async run(inputs) {
      if (inputs.length !== inputNames.length)
        throw new GlmvError(
          "bad_input",
          `native program takes ${inputNames.length} inputs, got ${inputs.length}`,
          {
            where: "NativeProgram.run",
          },
        );
      const feeds: Record<string, InstanceType<Ort["Tensor"]>> = {};
      inputs.forEach((h, i) => {
        const want = graph.inputs[i]!;
        feeds[inputNames[i]!] = new rt.Tensor(
          want.dtype === "float32" ? "float32" : (want.dtype as never),
          h.data as never,
          [...want.dims],
        );
      });
      const result = await session.run(feeds);
      return outputNames.map((name, i) => {
        const t = result[name]!;
        return {
          data: t.data as HostArray["data"],
          shape: graph.outputs[i]!.dims,
          dtype: graph.outputs[i]!.dtype,
        };
      });
    },
    dispose: async () => {
      if (process.env.GLMV_ONNX_PROFILE) session.endProfiling();
      await session.release();
    },
  };
}
