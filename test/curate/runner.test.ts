/**
 * The pipeline runner in process: stages over shards through worker threads, output in input order, drop counts by
 * reason, reruns that skip finished shards (and redo a changed stage and what follows), per-item time limits,
 * stage errors and worker crashes dropping one item, and phases at stages that read their whole input.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readItems } from "../../src/curate/formats/item-tar.ts";
import { loadPipeline, runPipeline, type ShardEvent } from "../../src/curate/index.ts";
import { readJsonl, tempDir, writePipeline } from "./helpers/pipelines.ts";

const toyInput = { generate: "toy-images", shards: 3, perShard: 4 };

async function run(
  pipeline: Record<string, unknown>,
  opts: { out?: string; dir?: string; phase?: number; shard?: number; of?: number } = {},
) {
  const dir = opts.dir ?? tempDir();
  const out = opts.out ?? join(dir, "out");
  const events: ShardEvent[] = [];
  const file = writePipeline(dir, { name: "t", input: toyInput, output: { format: "jsonl" }, ...pipeline });
  const summary = await runPipeline(await loadPipeline(file), {
    out,
    ...opts,
    onShard: (e) => events.push(e),
  });
  return { dir, out, summary, events };
}

describe("runner", () => {
  it("runs every shard through the stages, writes output in input order and counts drops by reason", async () => {
    const { out, summary } = await run({
      stages: [
        { use: "toy-drop-every", n: 3, delayMs: 5 },
        { use: "toy-split" },
        { use: "toy-tag", value: "x" },
      ],
    });
    expect(summary.stages.map((s) => [s.name, s.in, s.kept, s.dropped])).toEqual([
      ["input", 12, 12, {}],
      ["toy-drop-every", 12, 8, { every_nth: 4 }],
      ["toy-split", 8, 16, {}],
      ["toy-tag", 16, 16, {}],
    ]);
    const ids = [0, 1, 2].flatMap((s) => readJsonl(join(out, "output", `0000${s}.jsonl`)).map((r) => r.id));
    expect(ids).toEqual(
      ["toy-1", "toy-2", "toy-4", "toy-5", "toy-7", "toy-8", "toy-10", "toy-11"].flatMap((id) => [
        `${id}#a`,
        `${id}#b`,
      ]),
    );
    const first = readJsonl(join(out, "output", "00000.jsonl"))[0]!;
    expect(first).toMatchObject({ caption: "item 1", n: 1, tag: "x", images: ["media/00000/000000-0.png"] });
    const image = (first.images as string[])[0]!;
    expect(
      readFileSync(join(out, "output", image))
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");
    const summaryFile = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summaryFile.stages[1].dropped).toEqual({ every_nth: 4 });
    const sample = [];
    for await (const d of readItems(join(out, "shards", "01-toy-drop-every", "s00000.dropped.tar")))
      sample.push(d);
    expect(sample.map((d) => [d.item.id, d.note.reason, d.item.media.length])).toEqual([
      ["toy-0", "every_nth", 1],
      ["toy-3", "every_nth", 1],
    ]);
  }, 180_000);

  it("a rerun skips finished shards; a changed stage reruns itself and every stage after it", async () => {
    const stages = [
      { use: "toy-drop-every", n: 3 },
      { use: "toy-tag", value: "a" },
    ];
    const first = await run({ stages });
    const marker = join(first.out, "shards", "01-toy-drop-every", "s00000.json");
    const before = statSync(marker).mtimeMs;
    const again = await run({ stages }, { dir: first.dir });
    expect(again.events.every((e) => e.skipped)).toBe(true);
    const changed = await run({ stages: [stages[0]!, { use: "toy-tag", value: "b" }] }, { dir: first.dir });
    const redone = changed.events
      .filter((e) => !e.skipped)
      .map((e) => `${e.name}:${e.shard}`)
      .sort();
    expect(redone).toEqual(["output:0", "output:1", "output:2", "toy-tag:0", "toy-tag:1", "toy-tag:2"]);
    expect(statSync(marker).mtimeMs).toBe(before);
    expect(readJsonl(join(first.out, "output", "00001.jsonl"))[0]).toMatchObject({ tag: "b" });
    const upstream = await run({ stages: [{ use: "toy-drop-every", n: 2 }, stages[1]!] }, { dir: first.dir });
    expect(upstream.events.filter((e) => !e.skipped && e.name === "toy-drop-every")).toHaveLength(3);
    expect(upstream.summary.stages[1]!.dropped).toEqual({ every_nth: 6 });
  }, 180_000);

  it("drops an item past the time limit as timeout, replaces its stuck worker, and finishes the shard", async () => {
    const { summary, out } = await run({
      itemTimeoutMs: 400,
      stages: [{ use: "toy-faulty", hang: ["toy-1", "toy-6"] }, { use: "toy-tag" }],
    });
    expect(summary.stages[1]).toMatchObject({ in: 12, kept: 10, dropped: { timeout: 2 } });
    expect(summary.stages[2]).toMatchObject({ in: 10, kept: 10 });
    const sample = [];
    for await (const d of readItems(join(out, "shards", "01-toy-faulty", "s00000.dropped.tar")))
      sample.push(d.note);
    expect(sample).toEqual([{ reason: "timeout", detail: "over the item time limit of 400 ms" }]);
  }, 180_000);

  it("counts an item's time limit from when its stage is open, not from when it was sent", async () => {
    const { summary } = await run({
      itemTimeoutMs: 400,
      workers: 1,
      stages: [{ use: "toy-drop-every", n: 5, openDelayMs: 1200 }],
    });
    expect(summary.stages[1]).toMatchObject({ in: 12, kept: 9, dropped: { every_nth: 3 } });
  }, 180_000);

  it("an exception drops its item as stage_error with the message; a worker crash drops only its item", async () => {
    const { summary, out } = await run({
      stages: [{ use: "toy-faulty", throw: ["toy-2"], crash: ["toy-9"] }],
    });
    expect(summary.stages[1]).toMatchObject({ in: 12, kept: 10, dropped: { stage_error: 2 } });
    const notes = [];
    for (const s of [0, 2])
      for await (const d of readItems(join(out, "shards", "01-toy-faulty", `s0000${s}.dropped.tar`)))
        notes.push([d.item.id, d.note.detail]);
    expect(notes).toEqual([
      ["toy-2", "cannot handle toy-2"],
      ["toy-9", expect.stringMatching(/worker crashed.*code 3/)],
    ]);
  }, 180_000);

  it("a stage that reads its whole input starts a phase that waits for every shard of the level before it", async () => {
    const dir = tempDir();
    const stages = [{ use: "toy-drop-every", n: 3 }, { use: "toy-count-all" }];
    const task0 = await run({ stages }, { dir, phase: 0, shard: 0, of: 2 });
    expect(task0.events.map((e) => `${e.name}:${e.shard}`).sort()).toEqual([
      "input:0",
      "input:2",
      "toy-drop-every:0",
      "toy-drop-every:2",
    ]);
    await expect(run({ stages }, { dir, phase: 1, shard: 0, of: 2 })).rejects.toThrow(
      /phase 1 starts at stage 2 \(toy-count-all\), which reads every shard of level 1 .*not finished there: shard 1\b/,
    );
    await run({ stages }, { dir, phase: 0, shard: 1, of: 2 });
    await run({ stages }, { dir, phase: 1, shard: 0, of: 2 });
    const done = await run({ stages }, { dir, phase: 1, shard: 1, of: 2 });
    expect(done.summary.output.items).toBe(8);
    expect(readJsonl(join(done.out, "output", "00001.jsonl")).map((r) => r.total)).toEqual([8, 8, 8]);
  }, 180_000);
});
