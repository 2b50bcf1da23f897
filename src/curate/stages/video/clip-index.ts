/**
 * The index of `video-dedup`: every input clip's signature (its frames' unit embeddings, or their 64-bit pHashes)
 * by sequence number in input order, built once per run into the state folder (see `state/input-index.ts`) and
 * held in memory by each process. A clip is a near duplicate iff an EARLIER clip reaches the threshold, so the copy
 * kept depends on the input alone, never on which shard or task got there first.
 */
import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import { hamming } from "../../image/phash.ts";
import type { CurateItem } from "../../stage.ts";
import { openInputIndex } from "../../state/input-index.ts";

/** A clip's frames: unit-length embeddings (cosine = dot product) or pHashes, in time order. */
export type ClipSignature =
  | { kind: "embeddings"; vectors: Float32Array[] }
  | { kind: "phash"; hashes: bigint[] };
export type SignatureKind = ClipSignature["kind"];

/** What the index says of a clip: no earlier clip at the threshold, the most similar earlier one, or no signature. */
export type ClipDecision =
  | { kind: "first" }
  | { kind: "duplicate"; of: string; similarity: number }
  | { kind: "error"; message: string };

/** A clip's row: its signature, or why it has none (a frame that does not decode). */
export type ClipRow = { signature: ClipSignature } | { error: string };

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

type Row = {
  seq: number;
  id: string;
  frames: number;
  dim: number;
  data: Buffer | null;
  error: string | null;
};

export type ClipIndexSpec = {
  path: string;
  kind: SignatureKind;
  /** What else the signatures depend on (the embeddings model and how images are sent, the frame cap). */
  recipe: string;
  /** The frames of an item that make its signature (none: not indexed). */
  framesOf(item: CurateItem): Uint8Array[];
  /** The clip's row from its frames; a throw (an endpoint that is down) fails the build. */
  rowOf(frames: Uint8Array[]): Promise<ClipRow>;
};

export class ClipIndex {
  /** Clips with a signature, in input order. */
  private readonly clips: { seq: number; id: string; signature: ClipSignature }[] = [];
  /** Each id's first row: its place in the input and its signature, or why it has none. */
  private readonly rows = new Map<string, { seq: number; signature?: ClipSignature; error: string | null }>();

  private constructor(db: Database.Database, kind: SignatureKind) {
    for (const r of db
      .prepare("SELECT seq, id, frames, dim, data, error FROM rows ORDER BY seq")
      .iterate() as IterableIterator<Row>) {
      const signature = r.data ? decode(kind, r.frames, r.dim, r.data) : undefined;
      if (signature) this.clips.push({ seq: r.seq, id: r.id, signature });
      if (!this.rows.has(r.id)) this.rows.set(r.id, { seq: r.seq, signature, error: r.error });
    }
    db.close();
  }

  /**
   * The index of the clips `scan` yields, built once per input and recipe, then read into memory.
   * @example
   * const index = await ClipIndex.open({ path, kind: "phash", recipe: "phash:16", framesOf, rowOf }, () => ctx.scanInput());
   * index.earlier("clip-9", 0.85) // { kind: "duplicate", of: "clip-2", similarity: 0.97 }
   */
  static async open(spec: ClipIndexSpec, scan: () => AsyncIterable<CurateItem>): Promise<ClipIndex> {
    const db = await openInputIndex<ClipRow>(
      {
        stage: "video-dedup",
        path: spec.path,
        recipe: `video-dedup v2 ${spec.kind} ${spec.recipe}`,
        tables: `CREATE TABLE rows (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, frames INTEGER NOT NULL,
          dim INTEGER NOT NULL, data BLOB, error TEXT)`,
        indexes: "CREATE INDEX rows_id ON rows (id, seq)",
        keyOf(item) {
          const frames = spec.framesOf(item);
          if (frames.length === 0) return null;
          const hash = createHash("sha256");
          for (const f of frames) hash.update(`${f.length}:`).update(f);
          return hash.digest("hex");
        },
        rowOf: (item) => spec.rowOf(spec.framesOf(item)),
        inserter(db) {
          const insert = db.prepare(
            "INSERT INTO rows (seq, id, frames, dim, data, error) VALUES (?, ?, ?, ?, ?, ?)",
          );
          return (seq, id, row) => {
            if ("error" in row) insert.run(seq, id, 0, 0, null, row.error);
            else {
              const { dim, data } = encode(row.signature);
              insert.run(seq, id, frameCount(row.signature), dim, data, null);
            }
          };
        },
      },
      scan,
    );
    return new ClipIndex(db, spec.kind);
  }

  /**
   * Clip `id` against every earlier clip: the most similar one at or above `threshold` (the earliest on a tie) is
   * what it duplicates; undefined when `id` is not indexed.
   */
  earlier(id: string, threshold: number): ClipDecision | undefined {
    const own = this.rows.get(id);
    if (!own) return undefined;
    const signature = own.signature;
    if (!signature) return { kind: "error", message: own.error ?? "no signature" };
    let best: { of: string; similarity: number } | null = null;
    for (const clip of this.clips) {
      if (clip.seq >= own.seq) break;
      const similarity = clipSimilarity(signature, clip.signature);
      if (similarity >= threshold && (best === null || similarity > best.similarity))
        best = { of: clip.id, similarity };
    }
    return best ? { kind: "duplicate", ...best } : { kind: "first" };
  }

  close(): void {}
}
