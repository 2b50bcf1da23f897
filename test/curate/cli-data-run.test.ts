/**
 * `glmv data run` across processes: killed with SIGKILL mid-run and rerun, it ends with the same output bytes as
 * an uninterrupted run; run as two scheduler tasks (SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX set), it makes the
 * same output as one process.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runGlmv } from "../helpers/spawn-glmv.ts";
import { folderBytes, killGlmvWhen, tempDir, writePipeline } from "./helpers/pipelines.ts";

const SHARDS = 6;

function pipelineFile(dir: string, format: string): string {
  return writePipeline(dir, {
    name: "kill-test",
    input: { generate: "toy-images", shards: SHARDS, perShard: 4 },
    output: { format },
    stages: [
      { use: "toy-drop-every", n: 3, delayMs: 60 },
      { use: "toy-split" },
      { use: "toy-tag", value: "k" },
    ],
  });
}

const outputMarkers = (out: string) =>
  existsSync(join(out, "shards", "output"))
    ? readdirSync(join(out, "shards", "output")).filter((n) => n.endsWith(".json")).length
    : 0;

describe("glmv data run across processes", () => {
  it.each(["parquet", "webdataset"])(
    "kill -9 mid-run then rerun gives the same %s output bytes",
    async (format) => {
      const dir = tempDir();
      const file = pipelineFile(dir, format);
      const clean = await runGlmv(["data", "run", file, "--out", join(dir, "clean")], {
        killAfterMs: 120_000,
      });
      expect(clean.stderr).not.toMatch(/Error/);
      expect(clean.code).toBe(0);
      const killed = join(dir, "killed");
      // kill once the first stage has finished a shard: some work is committed, the rest is not
      await killGlmvWhen(["data", "run", file, "--out", killed], () =>
        existsSync(join(killed, "shards", "01-toy-drop-every", "s00000.json")),
      );
      expect(outputMarkers(killed)).toBeLessThan(SHARDS);
      const rerun = await runGlmv(["data", "run", file, "--out", killed], { killAfterMs: 120_000 });
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toMatch(/toy-drop-every\s+6\/6\s+24\s+16\s+every_nth 8/);
      expect(folderBytes(join(killed, "output"))).toEqual(folderBytes(join(dir, "clean", "output")));
      expect(Object.keys(folderBytes(join(killed, "output")))).toHaveLength(SHARDS);
    },
    240_000,
  );

  it("two scheduler tasks (array index from the environment) make the same output as one process", async () => {
    const dir = tempDir();
    const file = pipelineFile(dir, "jsonl");
    const one = await runGlmv(["data", "run", file, "--out", join(dir, "one")], { killAfterMs: 120_000 });
    expect(one.code).toBe(0);
    const task = (env: Record<string, string>) =>
      runGlmv(["data", "run", file, "--out", join(dir, "two")], {
        env: { ...process.env, ...env },
        killAfterMs: 120_000,
      });
    const a = await task({ SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "2" });
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/^\[glmv data\] \d+\/\d+ steps; /m); // plain progress lines off a terminal
    const done = () =>
      readdirSync(join(dir, "two", "shards", "output"))
        .filter((n) => n.endsWith(".json"))
        .sort();
    expect(done()).toEqual(["s00000.json", "s00002.json", "s00004.json"]);
    const b = await task({ JOB_COMPLETION_INDEX: "1", SLURM_ARRAY_TASK_COUNT: "2" });
    expect(b.code).toBe(0);
    expect(done()).toHaveLength(SHARDS);
    expect(folderBytes(join(dir, "two", "output"))).toEqual(folderBytes(join(dir, "one", "output")));
  }, 240_000);
});
