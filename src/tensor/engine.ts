/**
 * One-time start-up of the tensor engine (jax-js on its WASM backend).
 *
 * Node 20 lacks the iterator helpers (`Iterator.prototype.map` …) that jax-js uses inside `np.einsum` and
 * `nn.dotProductAttention`, so the core-js polyfill is loaded here, before any jax-js call can run.
 * Plain `init()` probes WebGPU through a global `navigator` and throws on Node, hence `init("wasm")`.
 */
import "core-js/actual/iterator/index.js";
import { defaultDevice, init } from "@jax-js/jax";

let started: Promise<void> | undefined;

/**
 * Start the WASM backend once; later calls return the same promise.
 * @example
 * await initTensorEngine();
 * const x = numpy.ones([2, 2]);
 */
export function initTensorEngine(): Promise<void> {
  started ??= (async () => {
    await init("wasm");
    defaultDevice("wasm");
  })();
  return started;
}
