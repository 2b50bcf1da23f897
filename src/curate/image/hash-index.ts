/**
 * Persistent dedup indexes shared by every shard and task of a run (SQLite in WAL mode with a busy timeout, so
 * concurrent array tasks can write the same file). The first item to claim a hash owns it; an item that finds its
 * own id already there is not a duplicate, so a rerun after a crash decides exactly as the first run did.
 *
 * Near-duplicate lookup is multi-index hashing (Norouzi et al., 2012): the 64 bits are split into `BANDS` bands,
 * each an indexed column. Two hashes within distance d differ by at most ⌊d / BANDS⌋ bits in some band (pigeonhole),
 * so the lookup probes every value within that radius of each band and checks the few rows it finds. With three
 * bands of 21–22 bits and d ≤ 5 that is 67 probes returning ~26 candidates at 1M hashes, instead of a scan.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { GlmvError } from "../../util/errors.ts";
import { popcount32 } from "./phash.ts";

/** Bands of the near-duplicate index (21, 21 and 22 bits, high to low); fixed, since the file stores them. */
export const BANDS = 3;
const BAND_BITS = [21, 21, 22];

/** How many bits of a 64-bit hash may differ at most: past 8 the probes per lookup grow past a thousand. */
export const MAX_DISTANCE = 8;

export type Claim = { kind: "new" } | { kind: "own" } | { kind: "duplicate"; of: string; distance: number };

function openDatabase(path: string, where: string): Database.Database {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: 30_000 });
    db.pragma("journal_mode = WAL");
    // WAL + NORMAL: a crash may lose the last commits but never corrupts; a lost claim is simply made again.
    db.pragma("synchronous = NORMAL");
    return db;
  } catch (e) {
    throw new GlmvError("io_error", `cannot open the dedup index ${path}: ${(e as Error).message}`, {
      where,
      cause: e,
    });
  }
}

/**
 * Exact duplicates by content hash (SHA-256 hex).
 * @example
 * const index = new ExactHashIndex(join(stateDir, "exact-dedup.sqlite"));
 * index.claim(item.id, contentHash(bytes)) // { kind: "duplicate", of: "a-17", distance: 0 }
 */
export class ExactHashIndex {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly owner: Database.Statement<[string], { id: string }>;

  constructor(path: string) {
    this.db = openDatabase(path, "exact-dedup");
    this.db.exec("CREATE TABLE IF NOT EXISTS exact (hash TEXT PRIMARY KEY, id TEXT NOT NULL) WITHOUT ROWID");
    this.insert = this.db.prepare("INSERT OR IGNORE INTO exact (hash, id) VALUES (?, ?)");
    this.owner = this.db.prepare("SELECT id FROM exact WHERE hash = ?");
  }

  /** Claim `hash` for `id`: new (now owned), own (owned already), or a duplicate of the owner. */
  claim(id: string, hash: string): Claim {
    const inserted = this.insert.run(hash, id).changes > 0;
    if (inserted) return { kind: "new" };
    const owner = this.owner.get(hash)!.id;
    return owner === id ? { kind: "own" } : { kind: "duplicate", of: owner, distance: 0 };
  }

  close(): void {
    this.db.close();
  }
}

type Row = { rowid: number; hi: number; lo: number };

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

const BAND_INDEXES = [0, 1, 2]
  .map((k) => `CREATE INDEX IF NOT EXISTS phash_b${k} ON phash (b${k}, hi, lo);`)
  .join("\n");

/**
 * Near duplicates by 64-bit perceptual hash within `maxDistance` bits.
 * @example
 * const index = new PhashIndex(join(stateDir, "phash-dedup.sqlite"), 5);
 * index.claim("img-3", await phash64(bytes)) // { kind: "new" }
 */
export class PhashIndex {
  readonly maxDistance: number;
  private readonly db: Database.Database;
  private readonly radius: number;
  private readonly probes: Database.Statement<number[], Row>;
  private readonly idOf: Database.Statement<[number], { id: string }>;
  private readonly own: Database.Statement<[string], { one: number }>;
  private readonly insert: Database.Statement;
  private readonly claimTx: (id: string, hash: bigint) => Claim;

  constructor(path: string, maxDistance: number) {
    if (!(Number.isInteger(maxDistance) && maxDistance >= 0 && maxDistance <= MAX_DISTANCE))
      throw new GlmvError("bad_config", `maxDistance must be 0–${MAX_DISTANCE}, got ${maxDistance}`, {
        where: "phash-dedup.maxDistance",
      });
    this.maxDistance = maxDistance;
    this.radius = Math.floor(maxDistance / BANDS);
    this.db = openDatabase(path, "phash-dedup");
    // The indexes are read at random: let them live in memory (mmap) rather than go through read() each probe.
    this.db.pragma("mmap_size = 1073741824");
    this.db.pragma("cache_size = -131072");
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS phash (id TEXT NOT NULL UNIQUE, hi INTEGER NOT NULL, lo INTEGER NOT NULL,
         b0 INTEGER NOT NULL, b1 INTEGER NOT NULL, b2 INTEGER NOT NULL);
       ${BAND_INDEXES}`,
    );
    // Each band index covers (band, hi, lo): the probes never touch the table; only the winner's id is read.
    const inList = (k: number) =>
      Array(neighbours(0, BAND_BITS[k]!, this.radius).length)
        .fill("?")
        .join(",");
    this.probes = this.db.prepare(
      [0, 1, 2]
        .map((k) => `SELECT rowid, hi, lo FROM phash WHERE b${k} IN (${inList(k)})`)
        .join(" UNION ALL "),
    );
    this.idOf = this.db.prepare("SELECT id FROM phash WHERE rowid = ?");
    this.own = this.db.prepare("SELECT 1 AS one FROM phash WHERE id = ?");
    this.insert = this.db.prepare("INSERT INTO phash (id, hi, lo, b0, b1, b2) VALUES (?, ?, ?, ?, ?, ?)");
    // IMMEDIATE: the look-up and the insert are one step for every process sharing the file.
    const tx = this.db.transaction((id: string, hash: bigint): Claim => {
      if (this.own.get(id)) return { kind: "own" };
      const match = this.nearest(hash);
      if (match) return { kind: "duplicate", of: match.id, distance: match.distance };
      this.add(id, hash);
      return { kind: "new" };
    });
    this.claimTx = (id, hash) => tx.immediate(id, hash);
  }

  /** The earliest-claimed hash within `maxDistance` of `hash`, or undefined. */
  nearest(hash: bigint): { id: string; distance: number } | undefined {
    const [hi, lo] = splitHash(hash);
    const params = bandsOf(hi, lo).flatMap((v, k) => neighbours(v, BAND_BITS[k]!, this.radius));
    let best: Row | undefined;
    let bestDistance = 0;
    for (const row of this.probes.iterate(...params)) {
      const distance = popcount32(row.hi ^ hi) + popcount32(row.lo ^ lo);
      if (distance <= this.maxDistance && (!best || row.rowid < best.rowid)) {
        best = row;
        bestDistance = distance;
      }
    }
    return best ? { id: this.idOf.get(best.rowid)!.id, distance: bestDistance } : undefined;
  }

  /** Claim `hash` for `id`: new (now owned), own (id already indexed), or a near duplicate of an earlier id. */
  claim(id: string, hash: bigint): Claim {
    return this.claimTx(id, hash);
  }

  private add(id: string, hash: bigint): void {
    const [hi, lo] = splitHash(hash);
    this.insert.run(id, hi, lo, ...bandsOf(hi, lo));
  }

  /**
   * Add many (id, hash) rows in one transaction without look-ups, for building an index in bulk: the band indexes
   * are dropped and rebuilt after the inserts (one sort each instead of a million random b-tree inserts).
   */
  addMany(rows: Iterable<[string, bigint]>): void {
    this.db
      .transaction(() => {
        for (const k of [0, 1, 2]) this.db.exec(`DROP INDEX IF EXISTS phash_b${k}`);
        for (const [id, hash] of rows) this.add(id, hash);
        this.db.exec(BAND_INDEXES);
      })
      .immediate();
  }

  /** Hashes in the index. */
  size(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM phash").get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
