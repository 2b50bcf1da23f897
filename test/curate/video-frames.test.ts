import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CurateItem } from "../../src/curate/stage.ts";
import { videoFrames } from "../../src/curate/stages/video/frames.ts";
import { keptOne, openContext, runStage } from "./stage-driver.ts";
import { makeClip } from "./video-fixtures.ts";

// The stage's temp folders go under a folder of this test's own, so the test can see that none is left behind.
let scratch: string;
let savedTmp: string | undefined;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "glmv-vf-test-"));
  savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = scratch;
});
afterAll(async () => {
  process.env.TMPDIR = savedTmp;
  await rm(scratch, { recursive: true, force: true });
});

const ctx = () => openContext(scratch);
const clipItem = (id: string, bytes: Uint8Array, name = "clip.mp4"): CurateItem => ({
  id,
  media: [{ name, bytes }],
  fields: { caption: "a test pattern" },
});
const mediaNames = (item: CurateItem) => item.media.map((m) => m.name);

describe("video-frames", () => {
  it("samples at a fixed fps, with each frame's own time and the clip's duration", async () => {
    const clip = await makeClip("testsrc=duration=3:size=64x48:rate=10");
    const [outcome] = await runStage(videoFrames, { fps: 2 }, [clipItem("v1", clip)], ctx());
    const item = keptOne(outcome);
    expect(item.fields.frameTimes).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(item.fields.duration).toBeCloseTo(3, 2);
    expect(item.fields.caption).toBe("a test pattern");
    expect(mediaNames(item)).toEqual([
      "clip.mp4",
      ...["frame-0000.jpg", "frame-0001.jpg", "frame-0002.jpg"],
      ...["frame-0003.jpg", "frame-0004.jpg", "frame-0005.jpg"],
    ]);
    const meta = await sharp(Buffer.from(item.media[3]!.bytes)).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: 64, height: 48 });
    expect(await readdir(scratch)).toEqual([]);
  });

  it("takes N evenly spaced frames: the first frame at or after each segment's centre", async () => {
    const clip = await makeClip("testsrc=duration=3:size=64x48:rate=10");
    const [outcome] = await runStage(
      videoFrames,
      { frames: 4, keepVideo: false },
      [clipItem("v2", clip)],
      ctx(),
    );
    const item = keptOne(outcome);
    // centres 0.375, 1.125, 1.875, 2.625 s; frames every 0.1 s
    expect(item.fields.frameTimes).toEqual([0.4, 1.2, 1.9, 2.7]);
    expect(mediaNames(item)).toEqual([
      "frame-0000.jpg",
      "frame-0001.jpg",
      "frame-0002.jpg",
      "frame-0003.jpg",
    ]);
  });

  it("counts times from the clip's start when the container starts late (MPEG-TS), and caps the frame count", async () => {
    const clip = await makeClip("color=c=blue:duration=2:size=32x32:rate=8", "ts");
    const [outcome] = await runStage(
      videoFrames,
      { fps: 4, maxFrames: 3 },
      [clipItem("v3", clip, "c.ts")],
      ctx(),
    );
    const item = keptOne(outcome);
    expect(item.fields.frameTimes).toEqual([0, 0.25, 0.5]);
  });

  it("scales frames down to maxSide, keeping the aspect ratio, and finds the video by its name", async () => {
    const clip = await makeClip("testsrc=duration=1:size=320x240:rate=5", "webm");
    const item: CurateItem = {
      id: "v4",
      media: [
        { name: "poster.png", bytes: new Uint8Array([1, 2, 3]) },
        { name: "movie", bytes: clip },
      ],
      fields: {},
    };
    const [outcome] = await runStage(videoFrames, { frames: 2, maxSide: 160, video: "movie" }, [item], ctx());
    const out = keptOne(outcome);
    expect(mediaNames(out)).toEqual(["movie", "poster.png", "frame-0000.jpg", "frame-0001.jpg"]);
    const meta = await sharp(Buffer.from(out.media[2]!.bytes)).metadata();
    expect([meta.width, meta.height]).toEqual([160, 120]);
  });

  it("drops what ffmpeg cannot read as video_unreadable, and an item with no video as no_video", async () => {
    const broken = clipItem("bad", new TextEncoder().encode("not a video at all"));
    const none: CurateItem = {
      id: "img",
      media: [{ name: "0.jpg", bytes: new Uint8Array([0xff]) }],
      fields: {},
    };
    const [a, b] = await runStage(videoFrames, {}, [broken, none], ctx());
    expect(a).toMatchObject({ kind: "drop", reason: "video_unreadable" });
    expect(a?.kind === "drop" && a.detail).toContain("clip.mp4");
    expect(b).toMatchObject({ kind: "drop", reason: "no_video" });
    expect(await readdir(scratch)).toEqual([]);
  });

  it("hands the item's abort to ffmpeg: an aborted item rejects instead of being dropped as unreadable", async () => {
    const clip = await makeClip("testsrc=duration=2:size=64x48:rate=10");
    const instance = await videoFrames.open(videoFrames.options.parse({ fps: 1 }), ctx());
    const controller = new AbortController();
    controller.abort(new Error("item time limit"));
    await expect(
      instance.process(clipItem("v5", clip), { shard: 0, signal: controller.signal }),
    ).rejects.toThrow(/time limit|abort/i);
    expect(await readdir(scratch)).toEqual([]);
  });

  it("rejects options asking for both fps and frames, and unknown keys", () => {
    expect(videoFrames.options.safeParse({ fps: 1, frames: 4 }).success).toBe(false);
    expect(videoFrames.options.safeParse({ fsp: 1 }).success).toBe(false);
  });
});
