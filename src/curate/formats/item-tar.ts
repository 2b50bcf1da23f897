/**
 * The runner's own shard files: items as WebDataset-style tar entries, `<n>.json` (id, fields, media names and any
 * notes such as a drop reason) followed by `<n>.m<i>` per media file. Lossless for any `CurateItem`.
 */
import { GlmvError } from "../../util/errors.ts";
import type { CurateItem } from "../stage.ts";
import { packTar, readTar, type TarEntry } from "./tar.ts";

/** An item with what the runner noted about it (a drop's `reason` and `detail`). */
export type NotedItem = { item: CurateItem; note: Record<string, unknown> };

const keyOf = (n: number) => String(n).padStart(7, "0");

function* itemEntries(items: readonly NotedItem[]): Generator<TarEntry> {
  for (const [n, { item, note }] of items.entries()) {
    const head = { ...note, id: item.id, fields: item.fields, media: item.media.map((m) => m.name) };
    yield { name: `${keyOf(n)}.json`, data: Buffer.from(JSON.stringify(head)) };
    for (const [i, m] of item.media.entries()) yield { name: `${keyOf(n)}.m${i}`, data: m.bytes };
  }
}

/** The tar bytes of `items` (deterministic: the same items give the same bytes). */
export const packItems = (items: readonly NotedItem[]): Promise<Buffer> => packTar(itemEntries(items));

/**
 * The items of a shard file written by `packItems`, in order.
 * @example for await (const { item } of readItems("shards/01-min-size/s00000.tar")) console.log(item.id);
 */
export async function* readItems(path: string): AsyncGenerator<NotedItem> {
  let current: { head: Record<string, unknown>; media: Uint8Array[] } | undefined;
  const finish = (c: NonNullable<typeof current>): NotedItem => {
    const { id, fields, media, ...note } = c.head as {
      id: string;
      fields: Record<string, unknown>;
      media: string[];
    };
    if (media.length !== c.media.length)
      throw new GlmvError("bad_input", `item ${id} lists ${media.length} media but has ${c.media.length}`, {
        where: path,
      });
    return { item: { id, fields, media: media.map((name, i) => ({ name, bytes: c.media[i]! })) }, note };
  };
  for await (const entry of readTar(path)) {
    if (entry.name.endsWith(".json")) {
      if (current) yield finish(current);
      current = { head: JSON.parse(Buffer.from(entry.data).toString("utf8")), media: [] };
    } else if (current) current.media.push(entry.data);
  }
  if (current) yield finish(current);
}
