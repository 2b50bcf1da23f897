import { numpy as np } from "@jax-js/jax";
import { describe, expect, it } from "vitest";
import { initTensorEngine } from "./engine.ts";

describe("initTensorEngine", () => {
  it("starts once and makes einsum (iterator helpers) usable on Node", async () => {
    const first = initTensorEngine();
    expect(initTensorEngine()).toBe(first);
    await first;
    const y = np.einsum("ij,jk->ik", np.ones([2, 3]), np.ones([3, 2]));
    expect(y.js()).toEqual([
      [3, 3],
      [3, 3],
    ]);
  });
});
