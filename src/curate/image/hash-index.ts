/**
 * The dedup indexes of the image stages: every input item's first image, by sequence number in input order (built
 * once per run by `openInputIndex`, see `state/input-index.ts`). An item is a duplicate iff an EARLIER item holds
 * the same bytes (`ExactHashIndex`) or a pHash within `maxDistance` bits (`PhashIndex`); the earliest such item is
 * named. The decision depends on the input alone, so every run, worker count and rerun keeps the same copy.
 *
 * Near-duplicate lookup is multi-index hashing (Norouzi et al., 2012): the 64 bits are split into `BANDS` bands,
 * each an indexed column. Two hashes within distance d differ by at most ⌊d / BANDS⌋ bits in some band (pigeonhole),
 * so the lookup probes every value within that radius of each band and checks the few rows it finds. With three
 * bands of 21–22 bits and d ≤ 5 that is 67 probes returning ~26 candidates at 1M hashes, instead of a scan.
 */
import type Database from "better-sqlite3";
import { GlmvError } from "../../util/errors.ts";
import type { CurateItem } from "../stage.ts";
import { openInputIndex } from "../state/input-index.ts";
import { contentHash } from "./content-hash.ts";
import { firstImage } from "./decode.ts";
import { hashToHex, phash64, popcount32 } from "./phash.ts";

/** Bands of the near-duplicate index (21, 21 and 22 bits, high to low); fixed, since the file stores them. */
export const BANDS = 3;
const BAND_BITS = [21, 21, 22];

/** How many bits of a 64-bit hash may differ at most: past 8 the probes per lookup grow past a thousand. */
export const MAX_DISTANCE = 8;

/** What an index says of an item: no earlier item within the threshold, or the earliest one that is. */
export type Earlier = { kind: "first" } | { kind: "duplicate"; of: string; distance: number };

/**
 * The image hashes the `phash` stage leaves on an item, for the dedup stages to reuse: the SHA-256 of the first
 * image's bytes and its pHash (16 hex digits).
 * @example withFields(item, imageHashFields(contentHash(bytes), await phash64(bytes)))
 */
export const imageHashFields = (sha256: string, phash: bigint) => ({ sha256, phash: hashToHex(phash) });

/** The item's pHash from its fields when they were made from these very bytes (`fields.sha256` is `sha256`), else null. */
export function phashFromFields(item: CurateItem, sha256: string): bigint | null {
  const { phash, sha256: from } = item.fields;
  if (from !== sha256 || typeof phash !== "string" || !/^[0-9a-f]{16}$/.test(phash)) return null;
  return BigInt(`0x${phash}`);
}

/** The SHA-256 of the item's first image, or null when it has none: what both indexes key an item by. */
const firstImageHash = (item: CurateItem): string | null => {
  const image = firstImage(item);
  return image ? contentHash(image.bytes) : null;
};

type Scan = () => AsyncIterable<CurateItem>;

/**
 * Exact duplicates: the same SHA-256 as an earlier item.
 * @example
 * const index = await ExactHashIndex.open(join(stateDir, "exact-dedup.sqlite"), () => ctx.scanInput());
 * index.earlier("a-17") // { kind: "duplicate", of: "a-3", distance: 0 }
 */
export class ExactHashIndex {
  private readonly own: Database.Statement<[string], { seq: number; hash: string }>;
  private readonly first: Database.Statement<[string], { seq: number; id: string }>;

  private constructor(private readonly db: Database.Database) {
    this.own = db.prepare("SELECT seq, hash FROM rows WHERE id = ? ORDER BY seq LIMIT 1");
    this.first = db.prepare("SELECT seq, id FROM rows WHERE hash = ? ORDER BY seq LIMIT 1");
  }

  static async open(path: string, scan: Scan): Promise<ExactHashIndex> {
    const db = await openInputIndex<string>(
      {
        stage: "exact-dedup",
        path,
        recipe: "exact-dedup v2",
        tables: "CREATE TABLE rows (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, hash TEXT NOT NULL)",
        indexes: "CREATE INDEX rows_id ON rows (id, seq); CREATE INDEX rows_hash ON rows (hash, seq);",
        keyOf: firstImageHash,
        rowOf: async (_item, sha256) => sha256,
        inserter(db) {
          const insert = db.prepare("INSERT INTO rows (seq, id, hash) VALUES (?, ?, ?)");
          return (seq, id, hash) => insert.run(seq, id, hash);
        },
      },
      scan,
    );
    return new ExactHashIndex(db);
  }

  /** The earliest earlier item with the same bytes as item `id`, or `first`; undefined when `id` is not indexed. */
  earlier(id: string): Earlier | undefined {
    const own = this.own.get(id);
    if (!own) return undefined;
    const first = this.first.get(own.hash)!;
    return first.seq < own.seq ? { kind: "duplicate", of: first.id, distance: 0 } : { kind: "first" };
  }

  close(): void {
    this.db.close();
  }
}

/** A 64-bit hash as its high and low unsigned 32-bit halves (how the index stores it, without BigInt work). */
export function splitHash(hash: bigint): [hi: number, lo: number] {
  const h = BigInt.asUintN(64, hash);
  return [Number(h >> 32n), Number(h & 0xffffffffn)];
}

/** The band values of a hash given as its halves: bits 63–43, 42–22 and 21–0. */
export const bandsOf = (hi: number, lo: number): [number, number, number] => [
  hi >>> 11,
  ((hi & 0x7ff) << 10) | (lo >>> 22),
  lo & 0x3fffff,
];

/** Every value within `radius` bits of `value` in a `bits`-wide band (itself first). */
export function neighbours(value: number, bits: number, radius: number): number[] {
  const out = [value];
  const flip = (v: number, from: number, left: number) => {
    for (let b = from; b < bits; b++) {
      const w = v ^ (1 << b);
      out.push(w);
      if (left > 1) flip(w, b + 1, left - 1);
    }
  };
  if (radius > 0) flip(value, 0, radius);
  return out;
}

const BAND_INDEXES = [0, 1, 2].map((k) => `CREATE INDEX rows_b${k} ON rows (b${k}, hi, lo);`).join("\n");

/** A row of the pHash index: the hash, or why the image has none. */
type PhashRow = { hash: bigint } | { error: string };
type Candidate = { seq: number; hi: number; lo: number };

/**
 * Near duplicates: a pHash within `maxDistance` bits of an earlier item's. Hashes come from `fields.phash` where
 * the `phash` stage left them for these bytes, and are computed while building otherwise.
 * @example
 * const index = await PhashIndex.open(join(stateDir, "phash-dedup.sqlite"), 5, () => ctx.scanInput());
 * index.earlier("img-3") // { kind: "first", hash: 0x9f3…n }
 */
export class PhashIndex {
  private readonly radius: number;
  private readonly probes: Database.Statement<number[], Candidate>;
  private readonly idOf: Database.Statement<[number], { id: string }>;
  private readonly own: Database.Statement<
    [string],
    { seq: number; hi: number | null; lo: number | null; error: string | null }
  >;

  private constructor(
    private readonly db: Database.Database,
    readonly maxDistance: number,
  ) {
    this.radius = Math.floor(maxDistance / BANDS);
    // The indexes are read at random: let them live in memory (mmap) rather than go through read() each probe.
    db.pragma("mmap_size = 1073741824");
    db.pragma("cache_size = -131072");
    const inList = (k: number) =>
      Array(neighbours(0, BAND_BITS[k]!, this.radius).length)
        .fill("?")
        .join(",");
    // Each band index covers (band, hi, lo) and the rowid (seq): the probes never touch the table.
    this.probes = db.prepare(
      [0, 1, 2].map((k) => `SELECT seq, hi, lo FROM rows WHERE b${k} IN (${inList(k)})`).join(" UNION ALL "),
    );
    this.idOf = db.prepare("SELECT id FROM rows WHERE seq = ?");
    this.own = db.prepare("SELECT seq, hi, lo, error FROM rows WHERE id = ? ORDER BY seq LIMIT 1");
  }

  /** The index of the input `scan` yields, built once per input (see `openInputIndex`). */
  static async open(path: string, maxDistance: number, scan: Scan): Promise<PhashIndex> {
    if (!(Number.isInteger(maxDistance) && maxDistance >= 0 && maxDistance <= MAX_DISTANCE))
      throw new GlmvError("bad_config", `maxDistance must be 0–${MAX_DISTANCE}, got ${maxDistance}`, {
        where: "phash-dedup.maxDistance",
      });
    const db = await openInputIndex<PhashRow>(
      {
        stage: "phash-dedup",
        path,
        recipe: "phash-dedup v2",
        tables: `CREATE TABLE rows (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, hi INTEGER, lo INTEGER,
          b0 INTEGER, b1 INTEGER, b2 INTEGER, error TEXT)`,
        indexes: `CREATE INDEX rows_id ON rows (id, seq); ${BAND_INDEXES}`,
        keyOf: firstImageHash,
        async rowOf(item, sha256) {
          const known = phashFromFields(item, sha256);
          if (known !== null) return { hash: known };
          try {
            return { hash: await phash64(firstImage(item)!.bytes) };
          } catch (e) {
            return { error: `${firstImage(item)!.name}: ${(e as Error).message}` };
          }
        },
        inserter(db) {
          const insert = db.prepare(
            "INSERT INTO rows (seq, id, hi, lo, b0, b1, b2, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          );
          return (seq, id, row) => {
            if ("error" in row) insert.run(seq, id, null, null, null, null, null, row.error);
            else {
              const [hi, lo] = splitHash(row.hash);
              insert.run(seq, id, hi, lo, ...bandsOf(hi, lo), null);
            }
          };
        },
      },
      scan,
    );
    return new PhashIndex(db, maxDistance);
  }

  /**
   * Item `id`'s hash and the earliest earlier item within `maxDistance` bits of it; `error` when its image did not
   * decode; undefined when `id` is not indexed.
   */
  earlier(id: string): (Earlier & { hash: bigint }) | { kind: "error"; message: string } | undefined {
    const own = this.own.get(id);
    if (!own) return undefined;
    if (own.hi === null || own.lo === null) return { kind: "error", message: own.error ?? "no hash" };
    const hash = (BigInt(own.hi) << 32n) | BigInt(own.lo);
    const match = this.nearest(hash, own.seq);
    return match ? { kind: "duplicate", ...match, hash } : { kind: "first", hash };
  }

  /** The earliest indexed hash within `maxDistance` of `hash` with a sequence number below `before`, or undefined. */
  nearest(hash: bigint, before = Number.POSITIVE_INFINITY): { of: string; distance: number } | undefined {
    const [hi, lo] = splitHash(hash);
    const params = bandsOf(hi, lo).flatMap((v, k) => neighbours(v, BAND_BITS[k]!, this.radius));
    let best: Candidate | undefined;
    let bestDistance = 0;
    for (const row of this.probes.iterate(...params)) {
      if (row.seq >= before || (best && row.seq >= best.seq)) continue;
      const distance = popcount32(row.hi ^ hi) + popcount32(row.lo ^ lo);
      if (distance <= this.maxDistance) [best, bestDistance] = [row, distance];
    }
    return best ? { of: this.idOf.get(best.seq)!.id, distance: bestDistance } : undefined;
  }

  /** Items with a hash in the index. */
  size(): number {
    return (this.db.prepare("SELECT count(hi) AS n FROM rows").get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
