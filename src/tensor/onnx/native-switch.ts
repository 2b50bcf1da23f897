/**
 * One native engine's on/off state and program compiles, shared by the trainer core and the generator:
 * onnxruntime-node is tried on first use, each program compiles once per key, and the first failure (the runtime
 * does not load, a program does not lower) turns the engine off for good, saying why once on stderr, so its owner
 * runs jax-js from then on.
 */
import type { Array as JaxArray, JsTree } from "@jax-js/jax";
import { tree } from "@jax-js/jax";
import { compileNative, loadOnnxRuntime, type NativeProgram } from "./program.ts";

/** What a compile traces on: the arguments, and any of them made only for the trace (freed after it). */
export type TraceArgs = { args: readonly JsTree<JaxArray>[]; owned?: readonly JsTree<JaxArray>[] };

export class NativeSwitch {
  /** pending: onnxruntime-node not tried yet; on: programs run natively; off: jax-js (see `reason`). */
  status: "pending" | "on" | "off" = "pending";
  reason: string | undefined;

  /** `offLine` is the stderr line's start, e.g. "native generation off, generating on jax-js". */
  constructor(
    readonly threads: number,
    readonly offLine: string,
  ) {}

  /** Whether programs run natively now (loads onnxruntime-node on first ask). */
  async on(): Promise<boolean> {
    if (this.status === "pending") {
      if (await loadOnnxRuntime()) this.status = "on";
      else this.turnOff("onnxruntime-node did not load");
    }
    return this.status === "on";
  }

  /** Turn native off for the rest of the owner's life, saying why once. */
  turnOff(reason: string): void {
    this.status = "off";
    this.reason = reason;
    process.stderr.write(`glmv: ${this.offLine} (${reason})\n`);
  }

  /**
   * `fn` compiled once per key into `cache`; undefined (and the switch off) when it does not lower. `trace` is a
   * thunk: building a trace's arguments may cost (a jax-js copy of host weights), and only a compile needs them.
   */
  async compile(
    cache: Map<string, NativeProgram>,
    key: string,
    // biome-ignore lint/suspicious/noExplicitAny: jax-js traces functions of any array-tree arguments
    fn: (...args: any[]) => JsTree<JaxArray>,
    trace: () => TraceArgs,
  ): Promise<NativeProgram | undefined> {
    const hit = cache.get(key);
    if (hit) return hit;
    const { args, owned = [] } = trace();
    try {
      const program = await compileNative(fn, args, { threads: this.threads });
      cache.set(key, program);
      return program;
    } catch (e) {
      this.turnOff(`a program did not lower: ${(e as Error).message}`);
      return undefined;
    } finally {
      tree.dispose(owned as never);
    }
  }
}
