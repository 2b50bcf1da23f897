/**
 * Ownership helpers for jax-js arrays. Every jax-js function consumes its array arguments (refcount −1); an
 * extra use needs `.ref`. These helpers make the common patterns short and hard to get wrong: borrowing a tree
 * for a call, disposing many things at once, and a scope that frees everything it tracked even on a throw.
 */
import { type Array as JaxArray, tree } from "@jax-js/jax";

/** Anything `tree.dispose` accepts: an array, or a nested object/array of arrays (a JsTree). */
export type Disposable = JaxArray | { [k: string]: unknown } | unknown[] | null | undefined;

/**
 * Dispose every argument (arrays or trees of arrays); `null`/`undefined` are skipped.
 * @example disposeAll(loss, grads, [a, b]);
 */
export function disposeAll(...items: Disposable[]): void {
  for (const item of items) {
    if (item === null || item === undefined) continue;
    tree.dispose(item as never);
  }
}

/**
 * Call `fn` with a borrowed (ref'd) copy of `value`, so the caller keeps ownership of `value`.
 * @example const y = withRef(params, (p) => runModel(p, x));   // params still usable afterwards
 */
export function withRef<T extends Disposable, R>(value: T, fn: (borrowed: T) => R): R {
  return fn(tree.ref(value as never) as T);
}

/**
 * A scope that tracks arrays and frees them all when closed. Use with `using` or call `close()` in `finally`.
 * `keep(x)` hands an array out of the scope (it is no longer tracked).
 * @example
 * const scope = new OwnScope();
 * try { const a = scope.track(np.ones([2])); ... return scope.keep(result); } finally { scope.close(); }
 */
export class OwnScope {
  #tracked: Disposable[] = [];
  #closed = false;

  /** Track `value` (array or tree) for disposal when the scope closes; returns it unchanged. */
  track<T extends Disposable>(value: T): T {
    this.#tracked.push(value);
    return value;
  }

  /** Stop tracking `value`, so it survives the scope (ownership passes to the caller). */
  keep<T extends Disposable>(value: T): T {
    const i = this.#tracked.lastIndexOf(value);
    if (i >= 0) this.#tracked.splice(i, 1);
    return value;
  }

  /** Dispose everything still tracked (in reverse order). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const items = this.#tracked.reverse();
    this.#tracked = [];
    disposeAll(...items);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Sum of the reference counts of all arrays in a tree (0 for a disposed array); for leak tests. */
export function totalRefCount(value: Disposable): number {
  if (value === null || value === undefined) return 0;
  let total = 0;
  for (const leaf of tree.leaves(value as never) as unknown[]) {
    const rc = (leaf as { refCount?: number }).refCount;
    if (typeof rc === "number") total += rc;
  }
  return total;
}

/** Number of arrays in a tree. */
export function countArrays(value: Disposable): number {
  if (value === null || value === undefined) return 0;
  return (tree.leaves(value as never) as unknown[]).length;
}
