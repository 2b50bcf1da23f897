import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { itemId, shardCountOf, shardIndices } from "../../src/curate/sources/common.ts";
import { allSources, findSource } from "../../src/curate/sources/index.ts";
import { runGlmv } from "../helpers/spawn-glmv.ts";

describe("synthesis sources", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glmv-sources-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("registers the four sources under unique names with strict options that all default", () => {
    const names = allSources.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(["ocr-documents", "formula-images", "grounding-scenes", "gui-grounding"]),
    );
    expect(new Set(names).size).toBe(names.length);
    for (const source of allSources) {
      const defaults = source.options.parse({}) as { count: number; shardSize: number; seed: number };
      expect([defaults.count, defaults.shardSize, defaults.seed], source.name).toEqual([100, 50, 0]);
      expect(source.shardCount(defaults)).toBe(2);
      expect(source.options.safeParse({ nonsense: 1 }).success, source.name).toBe(false);
      expect(source.summary.length).toBeGreaterThan(10);
    }
    expect(() => findSource("no-such-source")).toThrow(
      /unknown source "no-such-source"; known: .*gui-grounding/,
    );
  });

  it("splits items into shards by global index, so ids never repeat across shards", () => {
    const o = { count: 7, shardSize: 3 };
    expect(shardCountOf(o)).toBe(3);
    const all = [0, 1, 2, 3].flatMap((s) => shardIndices(o, s).map((i) => itemId("x", s, i)));
    expect(all).toEqual(["x-0-0", "x-0-1", "x-0-2", "x-1-3", "x-1-4", "x-1-5", "x-2-6"]);
    expect(() => shardIndices(o, -1)).toThrow(/shard/);
  });

  it("feeds `glmv data run` through `input.generate`, making the items the source makes in process", async () => {
    const pipeline = join(dir, "synth.yaml");
    await writeFile(
      pipeline,
      [
        "name: synth",
        "input:",
        "  generate: grounding-scenes",
        "  count: 3",
        "  shardSize: 2",
        "  width: 96",
        "  height: 96",
        "output:",
        "  format: jsonl",
        "stages: []",
        "",
      ].join("\n"),
    );
    const read = async (out: string) => {
      const files = (await readdir(join(out, "output"))).filter((f) => f.endsWith(".jsonl")).sort();
      return (await Promise.all(files.map((f) => readFile(join(out, "output", f), "utf8")))).join("");
    };
    const first = await runGlmv(["data", "run", pipeline, "--out", join(dir, "a")]);
    expect(first.code, first.stderr).toBe(0);
    const lines = (await read(join(dir, "a"))).trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => JSON.parse(l).answer)).toEqual(
      lines.map(() => expect.stringMatching(/^\[\[\d+,\d+,\d+,\d+\]\]$/)),
    );
    // The runner's items are the source's own: the same answers as generating in process.
    const source = findSource("grounding-scenes");
    const options = source.options.parse({ count: 3, shardSize: 2, width: 96, height: 96 });
    const answers: unknown[] = [];
    for (const shard of [0, 1])
      for await (const item of source.generate(options, shard, { baseDir: dir }))
        answers.push(item.fields.answer);
    expect(lines.map((l) => JSON.parse(l).answer)).toEqual(answers);
  });
});
