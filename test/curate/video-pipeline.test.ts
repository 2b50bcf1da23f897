/**
 * The video stages in a real `glmv data run` (child process, worker threads, two shards): frames sampled with
 * ffmpeg, an unreadable clip dropped, and a re-encoded copy in the other shard caught by the shared clip index.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runGlmv } from "../helpers/spawn-glmv.ts";
import { readJsonl, summaryStages, tempDir, writeJsonl, writePipelineYaml } from "./helpers/pipelines.ts";
import { makeClip, transcode } from "./video-fixtures.ts";

describe("glmv data run with video-frames and video-dedup", () => {
  it("samples frames, drops the unreadable clip and one of two copies across shards, and reruns to the same output", async () => {
    const dir = tempDir("glmv-video-run-");
    mkdirSync(join(dir, "clips"));
    const original = await makeClip("testsrc=duration=2:size=96x72:rate=10");
    const clips: Record<string, Uint8Array> = {
      "a.mp4": original,
      "b.mp4": await makeClip("mandelbrot=size=96x72:rate=10", "mp4", ["-t", "2"]),
      "broken.mp4": new TextEncoder().encode("not a video"),
      "a-copy.mp4": await transcode(original, ["-vf", "scale=64:48", "-crf", "35"]),
    };
    for (const [name, bytes] of Object.entries(clips)) writeFileSync(join(dir, "clips", name), bytes);
    const records = Object.keys(clips).map((name) => ({
      id: name.replace(".mp4", ""),
      video: `clips/${name}`,
    }));
    writeJsonl(join(dir, "clips.jsonl"), records);
    const pipeline = writePipelineYaml(dir, {
      name: "video",
      input: { format: "jsonl", path: "clips.jsonl", imageField: "video", shardSize: 2 },
      output: { format: "jsonl" },
      workers: 2,
      stages: [
        { use: "video-frames", frames: 4, keepVideo: false },
        { use: "video-dedup", method: "phash" },
      ],
    });

    const out = join(dir, "out");
    const run = await runGlmv(["data", "run", pipeline, "--out", out], { killAfterMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(summaryStages(out)).toEqual([
      ["input", 4, 4, {}],
      ["video-frames", 4, 3, { video_unreadable: 1 }],
      ["video-dedup", 3, 2, { near_duplicate_clip: 1 }],
    ]);
    const kept = [0, 1].flatMap((s) => readJsonl(join(out, "output", `0000${s}.jsonl`)));
    // Which copy survives depends on which shard reached the index first; exactly one does, and b always.
    expect(kept.map((r) => r.id).filter((id) => id !== "b")).toHaveLength(1);
    expect(kept.map((r) => r.id)).toContain("b");
    expect(kept[0]).toMatchObject({ frameTimes: [0.3, 0.8, 1.3, 1.8] });
    expect(kept[0]!.duration).toBeCloseTo(2, 1);

    const before = readFileSync(join(out, "summary.json"), "utf8");
    const rerun = await runGlmv(["data", "run", pipeline, "--out", out], { killAfterMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).stages).toEqual(
      JSON.parse(before).stages,
    );
  });
});
