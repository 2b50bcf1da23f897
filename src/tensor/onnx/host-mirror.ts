/**
 * One array tree held on two sides: as jax-js arrays (what scoring, generation and checkpoints read) and as host
 * arrays (what native programs take and return). Whichever side was written last is the truth; the other is
 * made from it only when read, so a run of native steps never touches jax-js and a read between steps rebuilds
 * the jax-js tree once.
 */
import { type Array as JaxArray, type JsTree, type JsTreeDef, numpy as np, tree } from "@jax-js/jax";
import { GlmvError } from "../../util/errors.ts";
import { type HostArray, toHost } from "./program.ts";

/** A jax-js array with a host array's data. */
export function fromHost(h: HostArray): JaxArray {
  if (h.dtype !== "float32" && h.dtype !== "int32")
    throw new GlmvError("unsupported_dtype", `no jax-js rebuild for a ${h.dtype} host array`, {
      where: "fromHost",
    });
  return np.array(h.data as Float32Array | Int32Array, {
    shape: [...h.shape],
    dtype: h.dtype === "float32" ? np.float32 : np.int32,
  });
}

/** Host leaves known for a jax-js tree object: trees rebuilt by a mirror, and trees `hostLeaves` converted. */
const knownLeaves = new WeakMap<object, HostArray[]>();

/**
 * The host leaves of a jax-js array tree (borrowed; in `tree.leaves` order): the mirror's own when the tree was
 * rebuilt from one, else copied once and remembered for the tree object (jax-js arrays never change in place, so
 * a tree object's leaves stay valid as long as nobody reassigns its fields).
 */
export async function hostLeaves(t: JsTree<JaxArray>): Promise<HostArray[]> {
  const key = t as object;
  const known = knownLeaves.get(key);
  if (known) return known;
  const leaves = await Promise.all((tree.leaves(tree.ref(t)) as JaxArray[]).map(toHost));
  knownLeaves.set(key, leaves);
  return leaves;
}

/** A tree mirrored between jax-js and the host (see the file comment). Owns both copies. */
export class HostMirror<T extends JsTree<JaxArray>> {
  #jax: T | undefined;
  #host: HostArray[] | undefined;
  #def: JsTreeDef | undefined;
  /** jax-js trees rebuilt from the host copy so far (for tests and reports). */
  rebuilds = 0;

  constructor(initial?: T) {
    this.#jax = initial;
  }

  /** Whether either side holds the tree. */
  get present(): boolean {
    return this.#jax !== undefined || this.#host !== undefined;
  }

  /** The jax-js tree (borrowed), rebuilt from the host copy when that is newer. */
  get value(): T | undefined {
    if (this.#jax === undefined && this.#host && this.#def) {
      this.#jax = tree.unflatten(this.#def, this.#host.map(fromHost)) as T;
      // host leaves are replaced, never written in place, once they back a rebuilt tree
      knownLeaves.set(this.#jax as object, this.#host);
      this.rebuilds++;
    }
    return this.#jax;
  }

  /** Install a jax-js tree (owned from here on; the old one is not freed, as a plain field's would not be). */
  set value(next: T | undefined) {
    this.#jax = next;
    this.#host = undefined;
    this.#def = undefined;
  }

  /** Install a jax-js tree and free the current one (unless it is `next`); the host copy is dropped. */
  replace(next: T | undefined): void {
    if (this.#jax !== undefined && this.#jax !== next) tree.dispose(this.#jax);
    this.value = next;
  }

  /** The tree's structure (known once the host copy exists). */
  get def(): JsTreeDef | undefined {
    return this.#def;
  }

  /** The host leaves (in `tree.leaves` order), made from the jax-js tree when that is newer. */
  async host(): Promise<HostArray[] | undefined> {
    if (!this.#host && this.#jax !== undefined) {
      this.#def = tree.structure(this.#jax);
      this.#host = await Promise.all((tree.leaves(tree.ref(this.#jax)) as JaxArray[]).map(toHost));
    }
    return this.#host;
  }

  /** Install host leaves of structure `def` (default: the current one); the jax-js copy is freed. */
  setHost(leaves: HostArray[], def: JsTreeDef | undefined = this.#def): void {
    if (!def)
      throw new GlmvError("engine_error", "host leaves without a tree structure", { where: "HostMirror" });
    if (this.#jax !== undefined) tree.dispose(this.#jax);
    this.#jax = undefined;
    this.#host = leaves;
    this.#def = def;
  }

  /** Drop both copies (the jax-js one freed) without rebuilding anything. */
  clear(): void {
    if (this.#jax !== undefined) tree.dispose(this.#jax);
    this.#jax = undefined;
    this.#host = undefined;
    this.#def = undefined;
  }
}
