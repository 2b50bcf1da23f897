/**
 * The persistent index of `video-dedup`: one SQLite file in the run's state folder holding a signature per kept
 * clip (its frames' unit embeddings, or their 64-bit pHashes), shared by every shard and task. Each process keeps
 * the rows in memory and reads only the rows added since its last look; look-up and insert are one IMMEDIATE
 * transaction, so two shards holding near-duplicate clips at the same time cannot both keep theirs.
 */
import Database from "better-sqlite3";
import { GlmvError } from "../../../util/errors.ts";
import { hamming } from "../../image/phash.ts";

/** A clip's frames: unit-length embeddings (cosine = dot product) or pHashes, in time order. */
export type ClipSignature =
  | { kind: "embeddings"; vectors: Float32Array[] }
  | { kind: "phash"; hashes: bigint[] };
export type SignatureKind = ClipSignature["kind"];

/** What the index made of a clip. */
export type ClipDecision =
  | { kind: "new" }
  /** The clip's own id is already there: kept before (a rerun), so kept again. */
  | { kind: "own" }
  | { kind: "duplicate"; of: string; similarity: number };

const frameCount = (s: ClipSignature) => (s.kind === "embeddings" ? s.vectors.length : s.hashes.length);

/** Similarity of frame `i` of `a` with frame `j` of `b` (same kind): cosine, or 1 − Hamming/64. */
function frameSimilarity(a: ClipSignature, i: number, b: ClipSignature, j: number): number {
  if (a.kind === "phash" && b.kind === "phash") return 1 - hamming(a.hashes[i]!, b.hashes[j]!) / 64;
  if (a.kind !== "embeddings" || b.kind !== "embeddings") return 0;
  const x = a.vectors[i]!;
  const y = b.vectors[j]!;
  if (x.length !== y.length) return 0;
  let dot = 0;
  for (let k = 0; k < x.length; k++) dot += x[k]! * y[k]!;
  return dot;
}

/**
 * Mean per-frame similarity of two clips, frames paired by position in the clip: with n and m frames, the
 * min(n, m) pairs are the frames at the same relative positions (the centre of each of min(n, m) equal parts).
 * @example clipSimilarity({ kind: "phash", hashes: [0n, 0n] }, { kind: "phash", hashes: [0n, 1n] }) // (1 + 63/64) / 2
 */
export function clipSimilarity(a: ClipSignature, b: ClipSignature): number {
  const n = frameCount(a);
  const m = frameCount(b);
  const k = Math.min(n, m);
  if (k === 0) return 0;
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const p = (i + 0.5) / k;
    sum += frameSimilarity(a, Math.floor(p * n), b, Math.floor(p * m));
  }
  return sum / k;
}

function encode(s: ClipSignature): { dim: number; data: Buffer } {
  if (s.kind === "phash") return { dim: 64, data: Buffer.from(BigUint64Array.from(s.hashes).buffer) };
  const dim = s.vectors[0]?.length ?? 0;
  const flat = new Float32Array(s.vectors.length * dim);
  s.vectors.forEach((v, i) => {
    flat.set(v, i * dim);
  });
  return { dim, data: Buffer.from(flat.buffer) };
}

function decode(kind: SignatureKind, frames: number, dim: number, data: Buffer): ClipSignature {
  // Copy out of the row's buffer: it may not be aligned for a typed-array view.
  const bytes = new Uint8Array(data).slice().buffer;
  if (kind === "phash") return { kind, hashes: Array.from(new BigUint64Array(bytes, 0, frames)) };
  const flat = new Float32Array(bytes, 0, frames * dim);
  return { kind, vectors: Array.from({ length: frames }, (_, i) => flat.subarray(i * dim, (i + 1) * dim)) };
}

type Row = { rowid: number; id: string; frames: number; dim: number; data: Buffer };

export class ClipIndex {
  private readonly db: Database.Database;
  private readonly clips = new Map<string, ClipSignature>();
  private lastRowid = 0;

  /**
   * Open (or create) the index at `path` for signatures of `kind` made by `model` (null for pHashes). An index made
   * with another kind or model is refused: its vectors are not comparable with these.
   */
  constructor(
    path: string,
    private readonly kind: SignatureKind,
    model: string | null,
  ) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // Shards in other processes hold the write lock only for one look-up; wait for them.
    this.db.pragma("busy_timeout = 60000");
    this.db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS clips (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
        frames INTEGER NOT NULL, dim INTEGER NOT NULL, data BLOB NOT NULL);`);
    const want = `${kind}:${model ?? ""}`;
    const claim = this.db.transaction(() => {
      this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('signature', ?)").run(want);
      return (this.db.prepare("SELECT value FROM meta WHERE key = 'signature'").get() as { value: string })
        .value;
    });
    const have = claim.immediate();
    if (have !== want) {
      this.db.close();
      throw new GlmvError("bad_config", `the clip index holds ${have} signatures, not ${want}`, {
        where: path,
      });
    }
  }

  /** Read the rows other processes added since the last look. */
  private refresh(): void {
    const rows = this.db
      .prepare("SELECT rowid, id, frames, dim, data FROM clips WHERE rowid > ? ORDER BY rowid")
      .all(this.lastRowid) as Row[];
    for (const r of rows) {
      this.clips.set(r.id, decode(this.kind, r.frames, r.dim, r.data));
      this.lastRowid = r.rowid;
    }
  }

  /**
   * Compare a clip with every clip in the index: its own id → `own`; the most similar clip at or above
   * `threshold` → `duplicate`; otherwise the clip is added → `new`.
   */
  decide(id: string, signature: ClipSignature, threshold: number): ClipDecision {
    const run = this.db.transaction((): ClipDecision => {
      this.refresh();
      if (this.clips.has(id)) return { kind: "own" };
      let best: { of: string; similarity: number } | null = null;
      for (const [other, sig] of this.clips) {
        const similarity = clipSimilarity(signature, sig);
        if (similarity >= threshold && (best === null || similarity > best.similarity))
          best = { of: other, similarity };
      }
      if (best) return { kind: "duplicate", ...best };
      const { dim, data } = encode(signature);
      const { lastInsertRowid } = this.db
        .prepare("INSERT INTO clips (id, frames, dim, data) VALUES (?, ?, ?, ?)")
        .run(id, frameCount(signature), dim, data);
      this.clips.set(id, signature);
      this.lastRowid = Math.max(this.lastRowid, Number(lastInsertRowid));
      return { kind: "new" };
    });
    return run.immediate();
  }

  close(): void {
    this.db.close();
  }
}
