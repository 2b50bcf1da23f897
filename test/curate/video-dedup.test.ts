import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CurateItem, StageOutcome } from "../../src/curate/stage.ts";
import { clipSimilarity } from "../../src/curate/stages/video/clip-index.ts";
import { videoDedup } from "../../src/curate/stages/video/dedup.ts";
import { videoFrames } from "../../src/curate/stages/video/frames.ts";
import { type OpenAiLikeServer, startOpenAiLikeServer } from "../helpers/openai-like-server.ts";
import { keptOne, openContext, runStage } from "./stage-driver.ts";
import { makeClip, transcode } from "./video-fixtures.ts";

let scratch: string;
let api: OpenAiLikeServer;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "glmv-vdedup-test-"));
  api = await startOpenAiLikeServer();
});
afterAll(async () => {
  await api.close();
  await rm(scratch, { recursive: true, force: true });
});

/** A clip item with its frames sampled by the real video-frames stage. */
async function sampled(id: string, bytes: Uint8Array, frames = 4): Promise<CurateItem> {
  const item = { id, media: [{ name: "clip.mp4", bytes }], fields: {} };
  const [outcome] = await runStage(videoFrames, { frames }, [item], openContext(scratch));
  return keptOne(outcome);
}

const verdicts = (outcomes: StageOutcome[]) => outcomes.map((o) => (o.kind === "keep" ? "keep" : o.reason));

/** Two colours one after the other, a second each. */
const twoColours = (a: string, b: string, size = "32x32") =>
  `color=c=${a}:d=1:s=${size}:r=10[a];color=c=${b}:d=1:s=${size}:r=10[b];[a][b]concat=n=2:v=1:a=0[out0]`;

describe("video-dedup with frame pHashes (no endpoint)", () => {
  let clips: CurateItem[];
  beforeAll(async () => {
    const original = await makeClip("testsrc=duration=3:size=96x72:rate=10");
    // the same footage at another size and a much lower quality
    const reencoded = await transcode(original, ["-vf", "scale=64:48", "-crf", "40"]);
    const other = await makeClip("mandelbrot=size=96x72:rate=10", "mp4", ["-t", "3"]);
    clips = [
      await sampled("orig", original),
      await sampled("copy", reencoded),
      await sampled("other", other),
    ];
  });

  it("drops the re-encoded copy as near_duplicate_clip naming the earlier clip it repeats, keeps a different clip", async () => {
    const stateDir = await mkdtemp(join(scratch, "state-"));
    const out = await runStage(videoDedup, { method: "phash" }, clips, openContext(stateDir, clips));
    expect(verdicts(out)).toEqual(["keep", "near_duplicate_clip", "keep"]);
    expect(out[1]?.kind === "drop" && out[1].detail).toMatch(/^orig \(mean frame similarity 0\.\d{3}\)$/);

    // A rerun over the same state (after a crash), its items in another order, decides the same.
    const again = await runStage(
      videoDedup,
      { method: "phash" },
      [...clips].reverse(),
      openContext(stateDir, clips),
    );
    expect(verdicts(again.reverse())).toEqual(["keep", "near_duplicate_clip", "keep"]);
  });

  it("keeps the earlier copy even when the later one's shard reaches the index first", async () => {
    const stateDir = await mkdtemp(join(scratch, "state-"));
    const options = videoDedup.options.parse({ method: "phash" });
    // two shards (two processes opening the stage) over one input: shard 1 holds the copy and runs first
    const [shard1, shard0] = [
      await videoDedup.open(options, openContext(stateDir, clips)),
      await videoDedup.open(options, openContext(stateDir, clips)),
    ];
    const signal = new AbortController().signal;
    try {
      expect(await shard1.process(clips[1]!, { shard: 1, signal })).toMatchObject({
        kind: "drop",
        reason: "near_duplicate_clip",
      });
      expect(await shard0.process(clips[0]!, { shard: 0, signal })).toMatchObject({ kind: "keep" });
    } finally {
      await shard0.close?.();
      await shard1.close?.();
    }
  });

  it("a threshold of 1 keeps the imperfect copy; an item without frames is no_frames", async () => {
    const stateDir = await mkdtemp(join(scratch, "state-"));
    const bare: CurateItem = {
      id: "bare",
      media: [{ name: "clip.mp4", bytes: new Uint8Array(4) }],
      fields: {},
    };
    const out = await runStage(
      videoDedup,
      { method: "phash", threshold: 1 },
      [...clips, bare],
      openContext(stateDir, [...clips, bare]),
    );
    expect(verdicts(out)).toEqual(["keep", "keep", "keep", "no_frames"]);
  });
});

describe("video-dedup with frame embeddings (a real local /v1/embeddings server)", () => {
  it("pairs frames by position: the same colours in the same order are a duplicate, in another order not", async () => {
    const redBlue = await sampled("red-blue", await makeClip(twoColours("red", "blue")));
    const redBlueBig = await sampled("red-blue-big", await makeClip(twoColours("red", "blue", "80x60")), 6);
    const blueRed = await sampled("blue-red", await makeClip(twoColours("blue", "red")));
    const stateDir = await mkdtemp(join(scratch, "state-"));
    const before = api.requests.length;
    const input = [redBlue, redBlueBig, blueRed];
    const out = await runStage(
      videoDedup,
      { hook: { url: api.url, model: "clip-test" } },
      input,
      openContext(stateDir, input),
    );
    expect(verdicts(out)).toEqual(["keep", "near_duplicate_clip", "keep"]);
    expect(out[1]?.kind === "drop" && out[1].detail).toMatch(/^red-blue /);
    const calls = api.requests.slice(before);
    expect(calls.every((r) => r.path === "/v1/embeddings" && r.body.model === "clip-test")).toBe(true);
    // every frame went to the endpoint as an image data URL
    const inputs = calls.flatMap((r) => r.body.input as string[]);
    expect(inputs).toHaveLength(4 + 6 + 4);
    expect(inputs.every((s) => s.startsWith("data:image/jpeg;base64,"))).toBe(true);
  });

  it("rebuilds its index for another model (vectors of two models are not comparable)", async () => {
    const stateDir = await mkdtemp(join(scratch, "state-"));
    const input = [await sampled("one", await makeClip(twoColours("red", "green")))];
    const models = () => api.requests.filter((r) => r.path === "/v1/embeddings").map((r) => r.body.model);
    const open = async (model: string) => {
      const stage = await videoDedup.open(
        videoDedup.options.parse({ hook: { url: api.url, model } }),
        openContext(stateDir, input),
      );
      await stage.close?.();
    };
    const before = models().length;
    await open("a");
    await open("a"); // reused: no new requests
    await open("b");
    expect(models().slice(before)).toEqual(["a", "b"]);
  });

  it("needs a hook for the embeddings method", () => {
    const parsed = videoDedup.options.safeParse({ method: "embeddings" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["hook"]);
  });
});

describe("clipSimilarity", () => {
  it("pairs n and m frames at the same relative positions", () => {
    const a = { kind: "phash" as const, hashes: [0n, 0n, -1n, -1n] };
    expect(clipSimilarity(a, { kind: "phash", hashes: [0n, -1n] })).toBe(1);
    expect(clipSimilarity(a, { kind: "phash", hashes: [-1n, 0n] })).toBe(0);
  });
});
