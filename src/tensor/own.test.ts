import { numpy as np } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "./engine.ts";
import { countArrays, disposeAll, OwnScope, totalRefCount, withRef } from "./own.ts";

beforeAll(async () => {
  await initTensorEngine();
});

describe("ownership helpers", () => {
  it("disposeAll frees arrays and trees, skipping null", () => {
    const a = np.ones([2]);
    const t = { w: np.ones([3]), list: [np.zeros([1])] };
    expect(totalRefCount([a, t])).toBe(3);
    disposeAll(a, t, null, undefined);
    expect(a.refCount).toBe(0);
    expect(t.w.refCount).toBe(0);
    expect(t.list[0]!.refCount).toBe(0);
  });

  it("withRef borrows: the caller keeps its reference", () => {
    const p = { w: np.array([1, 2, 3]) };
    const s = withRef(p, (q) => q.w.sum());
    expect(s.item()).toBe(6);
    expect(p.w.refCount).toBe(1);
    expect(() => p.w.js()).not.toThrow(); // js() consumes
    expect(p.w.refCount).toBe(0);
  });

  it("OwnScope frees tracked arrays on close and keeps handed-out ones", () => {
    const scope = new OwnScope();
    const a = scope.track(np.ones([2]));
    const b = scope.track(np.ones([2]));
    scope.keep(b);
    scope.close();
    scope.close(); // idempotent
    expect(a.refCount).toBe(0);
    expect(b.refCount).toBe(1);
    b.dispose();
  });

  it("OwnScope frees on a throw via using", () => {
    let leaked: ReturnType<typeof np.ones> | undefined;
    expect(() => {
      using scope = new OwnScope();
      leaked = scope.track(np.ones([4]));
      throw new Error("boom");
    }).toThrow("boom");
    expect(leaked!.refCount).toBe(0);
  });

  it("countArrays counts leaves", () => {
    const t = { a: np.ones([1]), b: [np.ones([1]), np.ones([1])] };
    expect(countArrays(t)).toBe(3);
    disposeAll(t);
  });
});
