import { describe, expect, it } from "vitest";
import { tokenLoss } from "./trainer-backend.ts";

describe("tokenLoss", () => {
  const cfg = { clip_low_threshold: 0.8, clip_high_threshold: 1.28 };
  it("ppo clips the ratio on the side the advantage pushes, importance sampling never does", () => {
    const up = Math.log(1.5); // ratio 1.5 above 1.28
    expect(tokenLoss("ppo", up, 0, 1, 1, cfg)).toEqual({ loss: -1.28, dLogprob: 0, clipped: true });
    expect(tokenLoss("ppo", up, 0, -1, 1, cfg).clipped).toBe(false); // a negative advantage may still pull it down
    expect(tokenLoss("ppo", up, 0, -1, 1, cfg).loss).toBeCloseTo(1.5);
    expect(tokenLoss("importance_sampling", up, 0, 1, 2, cfg).dLogprob).toBeCloseTo(-3);
    expect(tokenLoss("cross_entropy", -2, 0, 0, 0.5, cfg)).toEqual({
      loss: 1,
      dLogprob: -0.5,
      clipped: false,
    });
  });
});
