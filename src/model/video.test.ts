import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isGlmvError } from "../util/errors.ts";
import { renderChat } from "./chat-template.ts";
import type { RawImage } from "./processor.ts";
import { readSafetensors } from "./safetensors.ts";
import { loadTinyTokenizer } from "./tokenizer.ts";
import { expandPlaceholders, patchTimestamps, processVideo, sampleFrameIndices } from "./video.ts";

const fixtures = readSafetensors(
  readFileSync(new URL("../../test/fixtures/glm4v-tiny/fixtures.safetensors", import.meta.url)),
);
const ids = (name: string) => Array.from(fixtures.get(name)?.data ?? []);

describe("sampleFrameIndices", () => {
  it("samples 2 fps from a 30 fps clip, dedupes the capped tail and evens the count", () => {
    // duration = round(89/30)+1 = 4 s → 8 samples ⌈i·15⌉, the last two capped at 89 and deduplicated.
    expect(sampleFrameIndices({ totalFrames: 90, fps: 30 })).toEqual([0, 15, 30, 45, 60, 75, 89, 89]);
  });

  it("uses the container duration when given", () => {
    const idx = sampleFrameIndices({ totalFrames: 300, fps: 30, duration: 10 });
    expect(idx).toEqual(Array.from({ length: 20 }, (_, i) => i * 15));
  });

  it("defaults fps to 2 and dedupes low-fps repeats", () => {
    expect(sampleFrameIndices({ totalFrames: 7 })).toEqual([0, 1, 2, 3, 4, 5, 6, 6]);
    expect(sampleFrameIndices({ totalFrames: 10, fps: 1 })).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("spreads 600 samples over videos longer than 300 s, or takes every frame if there are fewer", () => {
    const long = sampleFrameIndices({ totalFrames: 30000, fps: 30, duration: 1000 });
    expect(long).toHaveLength(600);
    expect(long[0]).toBe(0);
    expect(long.at(-1)).toBe(29999);
    expect(long[1]).toBe(Math.ceil((1000 / 599) * 30));
    expect(sampleFrameIndices({ totalFrames: 400, fps: 1, duration: 400 })).toEqual(
      Array.from({ length: 400 }, (_, i) => i),
    );
  });

  it("rejects a video with no frames", () => {
    expect(() => sampleFrameIndices({ totalFrames: 0 })).toThrow(/at least one frame/);
  });
});

describe("patchTimestamps", () => {
  it("takes the first frame of each pair in seconds, defaulting fps to 24", () => {
    expect(patchTimestamps([0, 15, 30, 45], 30)).toEqual([0, 1]);
    expect(patchTimestamps([0, 12, 48, 60])).toEqual([0, 2]);
  });
});

describe("processVideo", () => {
  const frame = (v: number, w = 56, h = 56): RawImage => ({
    data: new Uint8Array(w * h * 3).fill(v),
    width: w,
    height: h,
    channels: 3,
  });

  it("pairs consecutive frames per temporal patch and pads an odd count with the last frame", () => {
    const v = processVideo([frame(0), frame(100), frame(200)], { minPixels: 784 });
    expect(v.gridThw).toEqual([2, 4, 4]);
    expect(v.tokensPerPatch).toBe(4);
    const row = (r: number) => v.pixelValues.subarray(r * 1176, (r + 1) * 1176);
    // Row 0 holds frames 0 and 1 (t = 0, 1); row 16 (second temporal patch) holds frame 2 twice.
    expect(row(0)[0]).not.toBe(row(0)[196]);
    expect(row(16)[0]).toBe(row(16)[196]);
    expect(row(16)[0]).toBeGreaterThan(row(0)[196] ?? 0);
  });

  it("budgets pixels over all frames together", () => {
    const frames = Array.from({ length: 8 }, (_, i) => frame(i, 280, 280));
    const v = processVideo(frames, { maxPixels: 8 * 112 * 112 });
    expect(v.resizedHw).toEqual([112, 112]);
  });

  it("rejects frames of different sizes", () => {
    expect(() => processVideo([frame(0), frame(0, 84, 56)])).toThrow(/frame 1 is 84x56/);
  });
});

describe("expandPlaceholders", () => {
  it("reproduces the fixture's image prompt ids", () => {
    const tok = { special: { image: 290, video: 291, beginImage: 292, endImage: 293 }, encode: () => [] };
    const expanded = expandPlaceholders(
      [5, 17, 292, 290, 293, 33, 44, 55, 66],
      { images: [[1, 8, 12]] },
      tok,
    );
    expect(expanded).toEqual(ids("image_8x12.input_ids"));
    const two = expandPlaceholders(
      [7, 292, 290, 293, 8, 9, 292, 290, 293, 10, 11, 12],
      {
        images: [
          [1, 4, 4],
          [1, 6, 10],
        ],
      },
      tok,
    );
    expect(two).toEqual(ids("two_images_4x4_6x10.input_ids"));
  });

  it("reproduces the fixture's video prompt layout (timestamp tokens from the tokenizer)", () => {
    const tok = {
      special: { image: 290, video: 291, beginImage: 292, endImage: 293 },
      encode: (s: string) => (s === "0" ? [40, 41] : [42, 43]),
    };
    const expanded = expandPlaceholders(
      [3, 294, 291, 295, 20, 21],
      { videos: [{ gridThw: [2, 4, 6], timestamps: [0, 1.9] }] },
      tok,
    );
    expect(expanded).toEqual(ids("video_2x4x6.input_ids"));
  });

  it("expands rendered text, with integer timestamps and the last one repeated when short", () => {
    const text = renderChat(
      [{ role: "user", content: [{ type: "video" }, { type: "image" }, { type: "text", text: "?" }] }],
      {
        style: "4.1v",
      },
    );
    const out = expandPlaceholders(text, {
      videos: [{ gridThw: [3, 2, 4], timestamps: [0.5, 2.7] }],
      images: [[1, 2, 2]],
    });
    const I = "<|image|>";
    const patch = (ts: string) => `<|begin_of_image|>${I.repeat(2)}<|end_of_image|>${ts}`;
    expect(out).toBe(
      `[gMASK]<sop><|user|>\n<|begin_of_video|>${patch("0")}${patch("2")}${patch("2")}<|end_of_video|>` +
        `<|begin_of_image|>${I}<|end_of_image|>?<|assistant|>\n`,
    );
  });

  it("token and text forms agree through the tiny tokenizer", async () => {
    const tok = await loadTinyTokenizer();
    const text = renderChat([{ role: "user", content: [{ type: "video" }, { type: "text", text: "go" }] }], {
      style: "4.5v",
    });
    const grids = { videos: [{ gridThw: [2, 4, 4] as const, timestamps: [0, 12] }] };
    expect(expandPlaceholders(tok.encode(text), grids, tok)).toEqual(
      tok.encode(expandPlaceholders(text, grids)),
    );
  });

  it("placeholder and grid counts must match", () => {
    const text = "<|begin_of_image|><|image|><|end_of_image|>";
    for (const grids of [{}, { images: [[1, 2, 2] as const, [1, 2, 2] as const] }]) {
      try {
        expandPlaceholders(text, grids);
        expect.unreachable();
      } catch (e) {
        expect(isGlmvError(e) && e.code).toBe("bad_input");
      }
    }
  });
});
