/**
 * Cross-shard dedup in real runs (issue 21): a group of copies spread over four shards keeps its EARLIEST member
 * (input order), the same with one worker or two, whichever shard reaches the dedup stages first, with or without
 * the phash stage; `glmv data run` killed with SIGKILL and rerun, or run as two array tasks phase by phase, ends
 * with the same output bytes as one uninterrupted process.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { readItems } from "../../src/curate/formats/item-tar.ts";
import { loadPipeline, runPipeline } from "../../src/curate/index.ts";
import { planPhases } from "../../src/curate/run/phases.ts";
import { patternImage, reencoded } from "../helpers/pairs-images.ts";
import { runGlmv } from "../helpers/spawn-glmv.ts";
import { folderBytes, killGlmvWhen, readJsonl, tempDir, writePipeline } from "./helpers/pipelines.ts";

const DELAY_MODULE = fileURLToPath(new URL("./helpers/dedup-toy-stages.ts", import.meta.url));
const SHARDS = 4;

/** Twelve records, three per shard: `g` in shard 0 and its copies in shards 1–3, among distinct pictures. */
async function writeInput(dir: string): Promise<void> {
  mkdirSync(join(dir, "images"));
  const g = await patternImage(320, 240, 3);
  const images: [string, Uint8Array][] = [
    ["o0", await patternImage(320, 240, 9)],
    ["o1", await patternImage(320, 240, 14)],
    ["g", g],
    ["g-small", await reencoded(g, 256, 55)],
    ["o2", await patternImage(320, 240, 21)],
    ["o3", await patternImage(320, 240, 38)],
    ["g-exact", Uint8Array.from(g)],
    ["o4", await patternImage(320, 240, 43)],
    ["g-low", await reencoded(g, 320, 40)],
    ["o5", await patternImage(320, 240, 50)],
    ["o6", await patternImage(320, 240, 61)],
    ["g-small-2", await reencoded(g, 200, 70)],
  ];
  for (const [id, bytes] of images) writeFileSync(join(dir, "images", `${id}.jpg`), bytes);
  writeFileSync(
    join(dir, "pairs.jsonl"),
    images.map(([id]) => JSON.stringify({ id, image: `${id}.jpg`, caption: `picture ${id}` })).join("\n"),
  );
}

const dedupStages = [{ use: "exact-dedup" }, { use: "phash-dedup", maxDistance: 8 }];

/** A pipeline file in `dir` over the input in `inputDir`. */
function pipelineIn(
  dir: string,
  inputDir: string,
  workers: number,
  stages: Record<string, unknown>[],
  format = "jsonl",
) {
  return writePipeline(dir, {
    name: "dedup",
    modules: [DELAY_MODULE],
    workers,
    input: {
      format: "jsonl",
      path: join(inputDir, "pairs.jsonl"),
      images: join(inputDir, "images"),
      shardSize: 3,
    },
    output: { format },
    stages,
  });
}

/** Kept ids in output order, and each drop with its reason and detail, from a finished run folder. */
async function decisions(out: string, stageNames: string[]) {
  const kept = Array.from({ length: SHARDS }, (_, s) =>
    readJsonl(join(out, "output", `0000${s}.jsonl`)).map((r) => r.id),
  ).flat();
  const dropped: string[] = [];
  for (const [k, name] of stageNames.entries())
    for (let s = 0; s < SHARDS; s++)
      for await (const d of readItems(
        join(out, "shards", `${String(k + 1).padStart(2, "0")}-${name}`, `s0000${s}.dropped.tar`),
      ))
        dropped.push(
          `${d.item.id}: ${d.note.reason} (${String(d.note.detail).replace(/^\d+ bits/, "N bits")})`,
        );
  return { kept, dropped: dropped.sort() };
}

describe("cross-shard dedup in a run", () => {
  let dir: string;
  beforeAll(async () => {
    dir = tempDir("glmv-dedup-run-");
    await writeInput(dir);
  }, 60_000);

  it("keeps the earliest copy whatever the worker count, shard completion order or hashing stage", async () => {
    const variants: { workers: number; stages: Record<string, unknown>[] }[] = [
      { workers: 1, stages: [{ use: "toy-delay-shard", ms: 0 }, { use: "phash" }, ...dedupStages] },
      // shard 0 (which holds the original) reaches the dedup stages last
      {
        workers: 2,
        stages: [{ use: "toy-delay-shard", shard: 0, ms: 400 }, { use: "phash" }, ...dedupStages],
      },
      // no phash stage: the dedup index hashes the images itself; shard 3 last
      { workers: 2, stages: [{ use: "toy-delay-shard", shard: 3, ms: 400 }, ...dedupStages] },
    ];
    const results = [];
    for (const [i, v] of variants.entries()) {
      const run = join(dir, `variant-${i}`);
      mkdirSync(run);
      const pipeline = await loadPipeline(pipelineIn(run, dir, v.workers, v.stages));
      // each dedup stage reads its whole input, so it starts a phase of its own
      expect((await planPhases(pipeline)).map((p) => p.barrier).filter(Boolean)).toEqual([
        "exact-dedup",
        "phash-dedup",
      ]);
      await runPipeline(pipeline, { out: join(run, "out") });
      results.push(
        await decisions(
          join(run, "out"),
          v.stages.map((s) => s.use as string),
        ),
      );
    }
    expect(results[0]).toEqual({
      kept: ["o0", "o1", "g", "o2", "o3", "o4", "o5", "o6"],
      dropped: [
        "g-exact: exact_duplicate (same bytes as g)",
        "g-low: near_duplicate (N bits from g)",
        "g-small-2: near_duplicate (N bits from g)",
        "g-small: near_duplicate (N bits from g)",
      ],
    });
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  }, 240_000);

  it("glmv data run killed with SIGKILL mid-dedup and rerun, or run as two array tasks, gives the same bytes", async () => {
    const stages = [
      { use: "phash" },
      ...dedupStages,
      { use: "toy-delay-shard", shard: 0, ms: 300, othersMs: 100 },
    ];
    const file = pipelineIn(dir, dir, 2, stages, "webdataset");
    const clean = await runGlmv(["data", "run", file, "--out", join(dir, "clean")], { killAfterMs: 120_000 });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/phash-dedup\s+4\/4\s+11\s+8\s+near_duplicate 3/);

    const killed = join(dir, "killed");
    // once the near-dup stage has committed a shard: its index built, the rest of its level not yet written
    await killGlmvWhen(["data", "run", file, "--out", killed], () =>
      existsSync(join(killed, "shards", "03-phash-dedup", "s00000.json")),
    );
    expect(existsSync(join(killed, "shards", "output", "s00003.json"))).toBe(false);
    const rerun = await runGlmv(["data", "run", file, "--out", killed], { killAfterMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(folderBytes(join(killed, "output"))).toEqual(folderBytes(join(dir, "clean", "output")));

    // Two array tasks, both running each phase at the same time (one builds each index, the other waits for it).
    const tasks = join(dir, "tasks");
    for (const phase of [0, 1, 2]) {
      const runs = await Promise.all(
        [0, 1].map((task) =>
          runGlmv(
            [
              "data",
              "run",
              file,
              "--out",
              tasks,
              "--phase",
              String(phase),
              "--shard",
              String(task),
              "--of",
              "2",
            ],
            {
              killAfterMs: 120_000,
            },
          ),
        ),
      );
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
    }
    expect(folderBytes(join(tasks, "output"))).toEqual(folderBytes(join(dir, "clean", "output")));
  }, 300_000);
});
