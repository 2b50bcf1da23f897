/**
 * Test fixture: a small Parquet file in the Hugging Face hub layout the `datasets` library writes — strings as
 * UTF8 byte arrays, `Sequence(string)` as a 3-level LIST, `Image()` as a struct of un-annotated `bytes` and a
 * `path` string, integers as INT64 — with real PNG bytes made by sharp.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetWriteFile } from "hyparquet-writer";
import sharp from "sharp";

type WriteSchema = NonNullable<Parameters<typeof parquetWriteFile>[0]["schema"]>;

export type HubColumn =
  | { name: string; kind: "string"; data: (string | null)[] }
  | { name: string; kind: "strings"; data: (string[] | null)[] }
  | { name: string; kind: "image"; data: ({ bytes: Uint8Array; path: string | null } | null)[] }
  | { name: string; kind: "int64"; data: bigint[] };

/** A real PNG of `width`×`height` in one colour. */
export async function tinyPng(width = 3, height = 2, colour = "#c03020"): Promise<Uint8Array> {
  const buffer = await sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();
  return new Uint8Array(buffer);
}

/** Writes the columns as `name` (e.g. `test-00000-of-00001.parquet`) in a new temp folder; returns the file path. */
export function writeHubParquet(
  columns: HubColumn[],
  name = "test-00000-of-00001.parquet",
  dir?: string,
): string {
  const folder = dir ?? mkdtempSync(join(tmpdir(), "glmv-hub-"));
  const schema: Record<string, unknown>[] = [{ name: "root", num_children: columns.length }];
  for (const column of columns) {
    if (column.kind === "string") {
      schema.push({
        name: column.name,
        type: "BYTE_ARRAY",
        converted_type: "UTF8",
        repetition_type: "OPTIONAL",
      });
    } else if (column.kind === "strings") {
      schema.push(
        { name: column.name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        { name: "element", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      );
    } else if (column.kind === "image") {
      schema.push(
        { name: column.name, repetition_type: "OPTIONAL", num_children: 2 },
        { name: "bytes", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" },
        { name: "path", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      );
    } else {
      schema.push({ name: column.name, type: "INT64", repetition_type: "OPTIONAL" });
    }
  }
  const filename = join(folder, name);
  parquetWriteFile({
    filename,
    columnData: columns.map((c) => ({ name: c.name, data: c.data })),
    schema: schema as unknown as WriteSchema,
  });
  return filename;
}
