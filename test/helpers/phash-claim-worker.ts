/**
 * A separate process that opens a shared PhashIndex file over a whole input and decides its share of the items,
 * like one array task of a sharded run: for the cross-task dedup test. Reads `{ path, maxDistance, rows, task,
 * tasks }` as JSON from argv[2] (rows: [id, hash hex] in input order; this task decides positions p with
 * p mod tasks == task); prints [id, "first" | "duplicate of <id>"] pairs.
 */
import { contentHash } from "../../src/curate/image/content-hash.ts";
import { PhashIndex } from "../../src/curate/image/hash-index.ts";
import type { CurateItem } from "../../src/curate/stage.ts";

const { path, maxDistance, rows, task, tasks } = JSON.parse(process.argv[2]!) as {
  path: string;
  maxDistance: number;
  rows: [string, string][];
  task: number;
  tasks: number;
};
const items: CurateItem[] = rows.map(([id, phash]) => {
  const bytes = new TextEncoder().encode(`image of ${id}`);
  return { id, media: [{ name: "0.png", bytes }], fields: { sha256: contentHash(bytes), phash } };
});
const index = await PhashIndex.open(path, maxDistance, async function* () {
  yield* items;
});
const decided = items
  .filter((_, p) => p % tasks === task)
  .map(({ id }) => {
    const found = index.earlier(id);
    return [id, found?.kind === "duplicate" ? `duplicate of ${found.of}` : (found?.kind ?? "absent")];
  });
index.close();
process.stdout.write(JSON.stringify(decided));
