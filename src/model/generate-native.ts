/**
 * The generator's step functions (prefill, one decode step) and their native path (issue 22): the functions jax-js
 * jits, lowered to ONNX and run by onnxruntime-node (src/tensor/onnx/). Both programs take the full weights tree, so
 * one set of host leaves (`hostLeaves`, shared with the native trainer's mirror) feeds them. Between steps the KV cache
 * stays host arrays (decode's cache outputs are the next decode's cache inputs) and each step's small inputs
 * (tokens, rope, mask, cache write) are built as typed arrays: a decode step creates no jax-js array.
 * When onnxruntime-node does not load or a program does not lower, the generator says why once and uses jax-js.
 */
import { type Array as JaxArray, numpy as np, tree } from "@jax-js/jax";
import { hostLeaves } from "../tensor/onnx/host-mirror.ts";
import { NativeSwitch } from "../tensor/onnx/native-switch.ts";
import { type HostArray, type NativeProgram, toHost } from "../tensor/onnx/program.ts";
import { linear } from "../tensor/ops.ts";
import { type GlmvConfig, textHeadDim, textRotaryDim } from "./config.ts";
import { type CacheWrite, type LayerCache, runDecoder, type TextRope } from "./decoder.ts";
import { embedInputs, gatherRows, type ModelInputs } from "./model.ts";
import type { GlmvParams, TextParams } from "./params.ts";
import { rotatePairsMatrix, textRopeTable } from "./rope.ts";

/** One decode step's arrays: [B, 1] tokens, rope at one slot, mask [B, 1, 1, Tmax]. */
export type StepInputs = { tokens: JaxArray; rope: TextRope; mask: JaxArray };

/** The prefill and decode-step outputs: each row's next-token logits [B, V] and the updated cache. */
export type StepOutput = { logits: JaxArray; cache: LayerCache[] };

/** The generator's two step functions, as jax-js traces them (jit or native lowering). */
export type StepFunctions = {
  prefill(params: GlmvParams, inputs: ModelInputs, cache: LayerCache[], write: CacheWrite): StepOutput;
  decode(params: TextParams, step: StepInputs, cache: LayerCache[], write: CacheWrite): StepOutput;
};

/**
 * One batch's steps on some engine: `prefill` once, then `decode` per fed token; each returns the logits [B · V]
 * on the host. `close` frees whatever the steps hold (the cache).
 */
export type BatchSteps = {
  prefill(): Promise<Float32Array>;
  /** Feed `fed` (one token per row) at cache slot `slot`. */
  decode(slot: number, fed: readonly number[]): Promise<Float32Array>;
  close(): void;
};

/** What a batch's steps start from: weights (borrowed), prefill inputs (consumed), pad masks, rope deltas. */
export type BatchStart = {
  params: GlmvParams;
  inputs: ModelInputs;
  attention: readonly (readonly number[])[];
  ropeDeltas: readonly number[];
};

/** The native engine of one generator; `open` is undefined-valued when the batch must run on jax-js. */
export type NativeGeneration = {
  /** Native steps for a batch, or undefined (nothing consumed) when native generation is off. */
  open(start: BatchStart): Promise<BatchSteps | undefined>;
  /** False once native generation turned off (the reason went to stderr). */
  readonly on: boolean;
  dispose(): void;
};

/**
 * The generator's two step functions for batch size `b` (jitted, or lowered natively): prefill (the prompts into
 * the cache, logits of each last slot) and one decode step ([B, 1] tokens at one cache slot); `counts` tallies
 * their traces (= compiles).
 */
export function stepFunctions(
  cfg: GlmvConfig,
  b: number,
  counts: { prefill: number; decode: number },
): StepFunctions {
  const t = cfg.text;
  return {
    prefill(params, inputs, cache, write) {
      counts.prefill++; // runs only while tracing
      const x = embedInputs(params.text.embed, params.vision, inputs.tokens, inputs.vision, cfg);
      const out = runDecoder({ layers: params.text.layers, norm: params.text.norm }, x, inputs.rope, t, {
        mask: inputs.mask,
        cache,
        write,
      });
      const last = out.hidden.slice([], -1); // [B, H]: prompts are left-padded, so the last slot is real
      return { logits: linear(last, params.text.lmHead), cache: out.cache! };
    },
    decode(params, step, cache, write) {
      counts.decode++;
      const x = gatherRows(params.embed, step.tokens.reshape([b]), "take").reshape([b, 1, t.hiddenSize]);
      const out = runDecoder({ layers: params.layers, norm: params.norm }, x, step.rope, t, {
        mask: step.mask,
        cache,
        write,
      });
      return { logits: linear(out.hidden.reshape([b, t.hiddenSize]), params.lmHead), cache: out.cache! };
    },
  };
}

const f32 = (data: Float32Array, shape: readonly number[]): HostArray => ({ data, shape, dtype: "float32" });

/** A generator's fixed sizes, with the rope pair-rotation matrix every decode step feeds. */
type GenDims = {
  t: GlmvConfig["text"];
  b: number;
  promptLen: number;
  tmax: number;
  hd: number;
  rot: number;
  rotate: HostArray;
};

/** A zeroed host KV cache: each layer's k then v, [B, Tmax, K, hd]. */
function zeroCache({ t, b, tmax, hd }: GenDims): HostArray[] {
  return Array.from({ length: 2 * t.numLayers }, () =>
    f32(new Float32Array(b * tmax * t.numKvHeads * hd), [b, tmax, t.numKvHeads, hd]),
  );
}

/** Host cache write of S entries at slots start..start+S−1 (the layout of generate.ts `cacheWriteAt`). */
function writeAt({ tmax }: GenDims, start: number, s: number): HostArray[] {
  const keep = new Float32Array(tmax).fill(1);
  const place = new Float32Array(tmax * s);
  for (let i = 0; i < s; i++) {
    keep[start + i] = 0;
    place[(start + i) * s + i] = 1;
  }
  return [f32(keep, [tmax, 1, 1]), f32(place, [1, 1, tmax, s])];
}

/** A decode step's host inputs in `StepInputs` leaf order: tokens, rope cos, sin, rotate, mask. */
function stepLeaves(d: GenDims, slot: number, fed: readonly number[], start: BatchStart): HostArray[] {
  const { t, b, tmax, hd, rot, promptLen } = d;
  const cos = new Float32Array(b * hd);
  const sin = new Float32Array(b * hd);
  const mask = new Uint8Array(b * tmax);
  for (let r = 0; r < b; r++) {
    const p = [slot + start.ropeDeltas[r]!];
    const table = textRopeTable([p, p, p], hd, rot, t.mropeSection, t.ropeTheta);
    cos.set(table.cos, r * hd);
    sin.set(table.sin, r * hd);
    const pads = start.attention[r]!;
    for (let j = 0; j <= slot; j++) mask[r * tmax + j] = j >= promptLen || pads[j] === 1 ? 1 : 0;
  }
  return [
    { data: Int32Array.from(fed), shape: [b, 1], dtype: "int32" },
    f32(cos, [b, 1, 1, hd]),
    f32(sin, [b, 1, 1, hd]),
    d.rotate,
    { data: mask, shape: [b, 1, 1, tmax], dtype: "bool" },
  ];
}

/** A jax-js copy of a host array (only to trace a program: its shapes and dtypes). */
function jaxOf(h: HostArray): JaxArray {
  if (h.dtype === "bool")
    return np.array(
      Array.from(h.data, (x) => x !== 0),
      { shape: [...h.shape], dtype: np.bool },
    );
  return np.array(h.data as Float32Array, {
    shape: [...h.shape],
    dtype: h.dtype === "int32" ? np.int32 : np.float32,
  });
}

const writeTree = ([keep, place]: HostArray[]): CacheWrite => ({ keep: jaxOf(keep!), place: jaxOf(place!) });

const cacheTree = ({ t }: GenDims, leaves: JaxArray[]): LayerCache[] =>
  Array.from({ length: t.numLayers }, (_, l) => ({ k: leaves[2 * l]!, v: leaves[2 * l + 1]! }));

/**
 * The native engine for generators of batch `b` and cache length `tmax`, running `fns` with `threads` intra-op
 * threads. Programs compile on first use: prefill once per input shape and structure, decode once.
 */
export function createNativeGeneration(
  cfg: GlmvConfig,
  dims: { b: number; promptLen: number; tmax: number },
  fns: StepFunctions,
  threads: number,
): NativeGeneration {
  const t = cfg.text;
  const hd = textHeadDim(t);
  const rot = textRotaryDim(t);
  const d: GenDims = { ...dims, t, hd, rot, rotate: f32(rotatePairsMatrix(hd, rot), [hd, hd]) };
  return new NativeSteps(d, fns, threads);
}

/** See `createNativeGeneration`. */
class NativeSteps implements NativeGeneration {
  readonly #d: GenDims;
  readonly #fns: StepFunctions;
  readonly #engine: NativeSwitch;
  readonly #programs = new Map<string, NativeProgram>();

  constructor(d: GenDims, fns: StepFunctions, threads: number) {
    this.#d = d;
    this.#fns = fns;
    this.#engine = new NativeSwitch(threads, "native generation off, generating on jax-js");
  }

  get on(): boolean {
    return this.#engine.status !== "off";
  }

  /** The batch's prefill and decode programs (compiled on first use), or undefined when they do not lower. */
  async #compile(start: BatchStart, inLeaves: JaxArray[], inDef: unknown) {
    const d = this.#d;
    const { params, inputs } = start;
    const paramsDef = String(tree.structure(params));
    // inputs are fed in traced order, so the trees' structures are part of the key
    const shapes = inLeaves.map((a) => `${a.dtype}[${a.shape}]`);
    const prefill = await this.#engine.compile(
      this.#programs,
      JSON.stringify(["prefill", paramsDef, String(inDef), shapes]),
      this.#fns.prefill as never,
      () => {
        const cache = cacheTree(d, zeroCache(d).map(jaxOf));
        const write = writeTree(writeAt(d, 0, d.promptLen));
        return { args: [params, inputs, cache, write], owned: [cache, write] };
      },
    );
    if (!prefill) return undefined;
    // decode takes the whole weights tree (the vision leaves go unused) so both programs share one host copy
    const wholeDecode = (p: GlmvParams, step: StepInputs, cache: LayerCache[], write: CacheWrite) =>
      this.#fns.decode(p.text, step, cache, write);
    const decodeKey = JSON.stringify(["decode", paramsDef]);
    const decode = await this.#engine.compile(this.#programs, decodeKey, wholeDecode as never, () => {
      const fed = new Array<number>(d.b).fill(0);
      const [tokens, cos, sin, rotate, mask] = stepLeaves(d, d.promptLen, fed, start).map(jaxOf);
      const cache = cacheTree(d, zeroCache(d).map(jaxOf));
      const write = writeTree(writeAt(d, d.promptLen, 1));
      const step = { tokens: tokens!, rope: { cos: cos!, sin: sin!, rotate: rotate! }, mask: mask! };
      return { args: [params, step, cache, write], owned: [step, cache, write] };
    });
    return decode && { prefill, decode };
  }

  async open(start: BatchStart): Promise<BatchSteps | undefined> {
    if (!(await this.#engine.on())) return undefined;
    const d = this.#d;
    const [inLeaves, inDef] = tree.flatten(start.inputs) as [JaxArray[], unknown];
    const programs = await this.#compile(start, inLeaves, inDef);
    if (!programs) return undefined;
    const { prefill, decode } = programs;
    const weights = await hostLeaves(start.params);
    const fedInputs = await Promise.all(inLeaves.map(toHost)); // consumes the prefill inputs
    const slots = new Map([prefill, decode].map((p) => [p, stepSlots(p)]));
    let cache: HostArray[] = [];
    const run = async (p: NativeProgram, feeds: HostArray[]) => {
      const outs = await p.run(feeds);
      const slot = slots.get(p)!;
      cache = slot.cache.map((i) => outs[i]!);
      return outs[slot.logits]!.data as Float32Array;
    };
    return {
      prefill: () => run(prefill, [...weights, ...fedInputs, ...zeroCache(d), ...writeAt(d, 0, d.promptLen)]),
      decode: (slot, fed) =>
        run(decode, [...weights, ...stepLeaves(d, slot, fed, start), ...cache, ...writeAt(d, slot, 1)]),
      close() {
        cache = [];
      },
    };
  }

  dispose(): void {
    for (const p of this.#programs.values()) void p.dispose();
    this.#programs.clear();
  }
}

/** Output slots of a step program: logits and the cache leaves, in the program's output order. */
function stepSlots(p: NativeProgram): { logits: number; cache: number[] } {
  const slots = tree.unflatten(
    p.outTree,
    Array.from({ length: p.outTree.size }, (_, i) => i),
  ) as unknown as { logits: number; cache: { k: number; v: number }[] };
  // the order `cacheTree` feeds them back in: each layer's k then v
  return { logits: slots.logits, cache: slots.cache.flatMap((c) => [c.k, c.v]) };
}
