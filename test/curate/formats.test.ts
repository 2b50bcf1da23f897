/**
 * Input and output formats: JSONL + image folder, Parquet in the Hugging Face layout (`image` / `images` structs of
 * {bytes, path}) and WebDataset tars, read into items and written back, with ids, fields and media bytes kept.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { openInput } from "../../src/curate/formats/input.ts";
import { writeOutputShard } from "../../src/curate/formats/output.ts";
import { packTar, readTar } from "../../src/curate/formats/tar.ts";
import { parsePipeline } from "../../src/curate/pipeline.ts";
import type { CurateItem } from "../../src/curate/stage.ts";
import { tinyPng, writeHubParquet } from "../../src/eval/tasks/hub-parquet.fixture.ts";
import { readJsonl, tempDir } from "./helpers/pipelines.ts";

async function itemsOf(input: Record<string, unknown>, baseDir: string): Promise<CurateItem[][]> {
  const pipeline = await parsePipeline({ name: "f", input, output: { format: "jsonl" } }, { baseDir });
  const shards = await openInput(pipeline);
  const out: CurateItem[][] = [];
  for (let s = 0; s < shards.shardCount; s++) {
    const items: CurateItem[] = [];
    for await (const item of shards.readShard(s)) items.push(item);
    out.push(items);
  }
  return out;
}

describe("input formats", () => {
  it("JSONL + image folder: ids, image lists, other fields, shards of shardSize", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "img"));
    const red = await tinyPng(4, 3, "#ff0000");
    writeFileSync(join(dir, "img", "a.png"), red);
    writeFileSync(join(dir, "img", "b.png"), await tinyPng(2, 2, "#00ff00"));
    const lines = [
      { id: "a", image: "a.png", caption: "red" },
      { id: 2, images: ["a.png", "b.png"], caption: "both", boxes: [[1, 2, 3, 4]] },
      { id: "c", caption: "text only" },
    ];
    writeFileSync(join(dir, "d.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n"));
    const shards = await itemsOf({ format: "jsonl", path: "d.jsonl", images: "img", shardSize: 2 }, dir);
    expect(shards.map((s) => s.map((i) => i.id))).toEqual([["a", "2"], ["c"]]);
    const [a, both] = shards[0]!;
    expect(a!.media.map((m) => m.name)).toEqual(["a.png"]);
    expect(Buffer.from(a!.media[0]!.bytes).equals(Buffer.from(red))).toBe(true);
    expect(both!.fields).toEqual({ caption: "both", boxes: [[1, 2, 3, 4]] });
    expect(both!.media.map((m) => m.name)).toEqual(["a.png", "b.png"]);
  });

  it("Parquet in the Hugging Face layout: image structs, row shards across files, bigints as numbers", async () => {
    const dir = tempDir();
    const png = await tinyPng();
    const column = (n: number) => Array.from({ length: n }, (_, i) => ({ bytes: png, path: `p${i}.png` }));
    writeHubParquet(
      [
        { name: "image", kind: "image", data: column(3) },
        { name: "caption", kind: "string", data: ["x", "y", "z"] },
        { name: "n", kind: "int64", data: [1n, 2n, 3n] },
      ],
      "train-00000-of-00002.parquet",
      dir,
    );
    writeHubParquet(
      [
        { name: "image", kind: "image", data: column(2) },
        { name: "caption", kind: "string", data: ["u", "v"] },
        { name: "n", kind: "int64", data: [4n, 5n] },
      ],
      "train-00001-of-00002.parquet",
      dir,
    );
    const shards = await itemsOf({ format: "parquet", path: ".", shardSize: 2 }, dir);
    expect(shards.map((s) => s.map((i) => i.fields.caption))).toEqual([["x", "y"], ["z", "u"], ["v"]]);
    expect(shards[1]![1]).toMatchObject({ id: "train-00001-of-00002-0", fields: { n: 4 } });
    expect(shards[1]![1]!.media[0]!.name).toBe("p0.png");
  });

  it("WebDataset: one tar per shard, members grouped by key, json fields and txt captions", async () => {
    const dir = tempDir();
    const png = await tinyPng();
    const entries = [
      { name: "k1.png", data: png },
      { name: "k1.json", data: Buffer.from(JSON.stringify({ id: "doc-1", score: 0.5 })) },
      { name: "k2.0.jpg", data: png },
      { name: "k2.1.jpg", data: png },
      { name: "k2.txt", data: Buffer.from("two images") },
    ];
    writeFileSync(join(dir, "shard-000.tar"), await packTar(entries));
    writeFileSync(
      join(dir, "shard-001.tar"),
      await packTar([{ name: "k3.pdf", data: Buffer.from("%PDF-1.4 x") }]),
    );
    const shards = await itemsOf({ format: "webdataset", path: "shard-*.tar" }, dir);
    expect(shards.map((s) => s.map((i) => i.id))).toEqual([["doc-1", "k2"], ["k3"]]);
    expect(shards[0]![0]!.fields).toEqual({ score: 0.5 });
    expect(shards[0]![1]).toMatchObject({ fields: { caption: "two images" } });
    expect(shards[0]![1]!.media.map((m) => m.name)).toEqual(["k2.0.jpg", "k2.1.jpg"]);
  });
});

describe("output formats", () => {
  const items = async (): Promise<CurateItem[]> => [
    { id: "a/1", media: [{ name: "x.png", bytes: await tinyPng() }], fields: { caption: "one", score: 0.5 } },
    { id: "b", media: [], fields: { caption: "two", boxes: [[0, 0, 9, 9]] } },
  ];

  it("JSONL with media files beside it", async () => {
    const dir = tempDir();
    expect(await writeOutputShard(dir, { format: "jsonl" }, 7, await items())).toEqual(["00007.jsonl"]);
    expect(readJsonl(join(dir, "00007.jsonl"))).toEqual([
      { caption: "one", score: 0.5, id: "a/1", images: ["media/00007/000000-0.png"] },
      { caption: "two", boxes: [[0, 0, 9, 9]], id: "b" },
    ]);
  });

  it("Parquet: id, images as {bytes, path} structs, typed and JSON field columns, split by shardSize", async () => {
    const dir = tempDir();
    const files = await writeOutputShard(dir, { format: "parquet", shardSize: 1 }, 0, await items());
    expect(files).toEqual(["00000-0000.parquet", "00000-0001.parquet"]);
    const rows = await parquetReadObjects({
      file: await asyncBufferFromFile(join(dir, files[0]!)),
      utf8: false,
    });
    expect(rows[0]).toMatchObject({ id: "a/1", caption: "one", score: 0.5, images: [{ path: "x.png" }] });
    const second = await parquetReadObjects({ file: await asyncBufferFromFile(join(dir, files[1]!)) });
    expect(second[0]).toMatchObject({ id: "b", images: [], boxes: [[0, 0, 9, 9]] });
  });

  it("WebDataset: <key>.json and <key>.<ext> members that read back as the same items", async () => {
    const dir = tempDir();
    const written = await items();
    await writeOutputShard(dir, { format: "webdataset" }, 0, written);
    const names: string[] = [];
    for await (const e of readTar(join(dir, "00000.tar"))) names.push(e.name);
    expect(names).toEqual(["a_1.json", "a_1.png", "b.json"]);
    const [back] = await itemsOf({ format: "webdataset", path: "." }, dir);
    expect(back!.map((i) => [i.id, i.fields.caption, i.media.length])).toEqual([
      ["a/1", "one", 1],
      ["b", "two", 0],
    ]);
    expect(Buffer.from(back![0]!.media[0]!.bytes).equals(Buffer.from(written[0]!.media[0]!.bytes))).toBe(
      true,
    );
  });
});
