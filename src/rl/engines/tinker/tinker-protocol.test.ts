import { describe, expect, it } from "vitest";
import { Datum, SamplingParams } from "./tinker-protocol.ts";

describe("tinker protocol schemas", () => {
  it("read SkyRL's null stop and seed as absent, and refuse a negative temperature", () => {
    const p = SamplingParams.parse({ max_tokens: 3, stop: null, seed: null, temperature: 1 });
    expect(p).toEqual({ max_tokens: 3, temperature: 1 });
    expect(SamplingParams.parse({ max_tokens: 2, stop: [7], seed: 4 })).toEqual({
      max_tokens: 2,
      stop: [7],
      seed: 4,
    });
    expect(SamplingParams.safeParse({ max_tokens: 3, temperature: -1 }).success).toBe(false);
  });

  it("accept a datum of text and image chunks and refuse an unknown chunk type", () => {
    const datum = {
      model_input: {
        chunks: [
          { type: "encoded_text", tokens: [1, 2] },
          { type: "image", data: "iVBOR", format: "png", expected_tokens: 4 },
        ],
      },
      loss_fn_inputs: { target_tokens: { data: [2, 3], dtype: "int64" } },
    };
    expect(Datum.parse(datum)).toEqual(datum);
    expect(Datum.safeParse({ ...datum, model_input: { chunks: [{ type: "audio" }] } }).success).toBe(false);
  });
});
