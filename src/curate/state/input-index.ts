/**
 * A stage's whole input indexed in input order, once per run: the home of cross-shard dedup. Each item of
 * `scanInput()` (shard, then position in the shard) gets a sequence number and a row of the stage's own (a content
 * hash, a pHash, a clip's frame signatures) in one SQLite file in the state folder. A dedup stage then drops an item
 * iff an item with a smaller sequence number is within its threshold, so what is kept depends on the input alone,
 * never on which worker, shard or task got there first: two runs, any `workers` count, a rerun after `kill -9`
 * all decide the same.
 *
 * Every opener reads the input once to digest it (ids and a cheap key per item, such as the SHA-256 of its bytes);
 * an index file built from that digest is reused, any other is rebuilt. One opener across threads and processes
 * builds (`buildOnce`), reading the input a second time and computing the rows a few items at a time; the file is
 * written beside its place and renamed in, so readers only ever see a finished index.
 */
import { createHash } from "node:crypto";
import { rename, rm } from "node:fs/promises";
import Database from "better-sqlite3";
import { GlmvError } from "../../util/errors.ts";
import { tempSibling } from "../../util/fs.ts";
import type { CurateItem } from "../stage.ts";
import { buildOnce } from "./build-once.ts";

/** How a stage indexes its input. `R` is what it computes per item. */
export type InputIndexSpec<R> = {
  /** The stage's name, for messages. */
  stage: string;
  /** The index file. */
  path: string;
  /** What the rows depend on besides the input (a format version, a model): a different recipe rebuilds. */
  recipe: string;
  /** Tables beyond `meta` (the first must be `rows`, keyed by `seq INTEGER PRIMARY KEY` with an `id TEXT`). */
  tables: string;
  /** Indexes, created after the bulk insert (one sort each instead of many random b-tree inserts). */
  indexes: string;
  /** A cheap identity of what `rowOf` reads from the item (the SHA-256 of its bytes), or null: nothing to index. */
  keyOf(item: CurateItem): string | null;
  /** The item's row (the costly part: a decode, an embeddings request); a throw fails the build. */
  rowOf(item: CurateItem, key: string): Promise<R>;
  /** A writer of rows into `db` (prepared once per build). */
  inserter(db: Database.Database): (seq: number, id: string, row: R) => void;
  /** Rows computed at a time while building (image decodes run on libuv's pool; requests overlap). */
  concurrency?: number;
};

const DEFAULT_CONCURRENCY = 8;

/** The input as the spec sees it, digested on the way: the recipe, then each item's id and key, in order. */
function digesting<R>(spec: InputIndexSpec<R>, scan: AsyncIterable<CurateItem>) {
  const hash = createHash("sha256").update(`${spec.recipe}\n`);
  let items = 0;
  return {
    items: (async function* () {
      for await (const item of scan) {
        hash.update(`${item.id}\0${spec.keyOf(item) ?? ""}\n`);
        items++;
        yield item;
      }
    })(),
    /** The digest and item count, once `items` has been read to the end. */
    result: () => ({ digest: hash.digest("hex"), items }),
  };
}

async function digestInput<R>(spec: InputIndexSpec<R>, scan: AsyncIterable<CurateItem>) {
  const input = digesting(spec, scan);
  for await (const _ of input.items);
  return input.result();
}

/** The index at `path` opened read-only when it was built from `digest`, else null. */
function openIfCurrent(path: string, digest: string): Database.Database | null {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const row = db.prepare("SELECT value FROM meta WHERE key = 'digest'").get() as
      | { value: string }
      | undefined;
    if (row?.value === digest) return db;
  } catch {
    // missing, half-written by another version, or not an index at all: rebuilt
  }
  db?.close();
  return null;
}

/** Rows in input order, computed up to `concurrency` at a time; a failed row fails the build when its turn comes. */
async function* rowsInOrder<R>(spec: InputIndexSpec<R>, scan: AsyncIterable<CurateItem>) {
  type Pending = { seq: number; id: string; row: Promise<{ ok: R } | { error: unknown }> };
  const window: Pending[] = [];
  const limit = spec.concurrency ?? DEFAULT_CONCURRENCY;
  let seq = 0;
  for await (const item of scan) {
    const key = spec.keyOf(item);
    if (key !== null)
      window.push({
        seq,
        id: item.id,
        row: spec.rowOf(item, key).then(
          (ok) => ({ ok }),
          (error: unknown) => ({ error }),
        ),
      });
    seq++;
    while (window.length >= limit) yield await settle(window.shift()!);
  }
  while (window.length) yield await settle(window.shift()!);

  async function settle(p: Pending) {
    const done = await p.row;
    if ("error" in done) throw done.error;
    return { seq: p.seq, id: p.id, row: done.ok };
  }
}

async function build<R>(
  spec: InputIndexSpec<R>,
  scan: () => AsyncIterable<CurateItem>,
  digest: string,
): Promise<Database.Database> {
  const tmp = tempSibling(spec.path);
  const db = new Database(tmp);
  try {
    // A temp file nobody else reads: no journal, no syncs until the rename.
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); ${spec.tables}`);
    db.exec("BEGIN");
    const insert = spec.inserter(db);
    const input = digesting(spec, scan());
    for await (const { seq, id, row } of rowsInOrder(spec, input.items)) insert(seq, id, row);
    // The input read twice must be the same input: a concurrent upstream rerun would make a wrong index.
    if (input.result().digest !== digest)
      throw new GlmvError("bad_input", `the input of ${spec.stage} changed while its index was built`, {
        where: spec.path,
      });
    db.exec(spec.indexes);
    db.prepare("INSERT INTO meta (key, value) VALUES ('digest', ?), ('recipe', ?)").run(digest, spec.recipe);
    db.exec("COMMIT");
    db.close();
    // A journal left by an older index format would be replayed into the new file.
    await Promise.all([rm(`${spec.path}-wal`, { force: true }), rm(`${spec.path}-shm`, { force: true })]);
    await rename(tmp, spec.path);
  } catch (e) {
    if (db.open) db.close();
    await rm(tmp, { force: true });
    throw e;
  }
  const opened = openIfCurrent(spec.path, digest);
  if (!opened)
    throw new GlmvError("io_error", `the ${spec.stage} index cannot be read back after building it`, {
      where: spec.path,
    });
  return opened;
}

/**
 * The stage's input index, read-only: reused when built from this input and recipe, else built once (across
 * threads and processes) from `scan`. An empty input gives an empty in-memory index and touches no file (the
 * runner's probe for phase boundaries opens every stage with an empty scan).
 * @example
 * const db = await openInputIndex(spec, () => ctx.scanInput());
 * db.prepare("SELECT seq FROM rows WHERE id = ?").get(item.id)
 */
export async function openInputIndex<R>(
  spec: InputIndexSpec<R>,
  scan: () => AsyncIterable<CurateItem>,
): Promise<Database.Database> {
  const { digest, items } = await digestInput(spec, scan());
  if (items === 0) {
    const db = new Database(":memory:");
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); ${spec.tables}; ${spec.indexes}`);
    return db;
  }
  return buildOnce({
    path: spec.path,
    load: async () => openIfCurrent(spec.path, digest),
    build: () => build(spec, scan, digest),
  });
}

/**
 * The error for an item the index does not hold: the stage was given an item that is not in its `scanInput()`.
 * @example throw notIndexed("exact-dedup", item.id, path)
 */
export const notIndexed = (stage: string, id: string, path: string) =>
  new GlmvError(
    "bad_input",
    `${stage}: item ${id} is not in the index built from this stage's input (scanInput must yield every item it is given)`,
    { where: path },
  );
