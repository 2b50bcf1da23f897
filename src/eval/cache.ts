/**
 * The run's response cache (`DIR/cache.sqlite`): every finished generation and judge extraction is written the
 * moment it arrives, so a killed run resumes without asking the model again. A response is keyed by (model id,
 * task fingerprint, item id, generation settings); the fingerprint is the task name plus a hash of the item's
 * prompt, images and gold, so an edited item is asked again while a reordered or re-limited file is not.
 * Failed requests are not cached: a rerun tries them again.
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { GenerationResult } from "./model-client.ts";
import type { EvalImage, EvalItem } from "./types.ts";

/** What a cached response is keyed by besides the model: the generation settings of the request. */
export type GenerationSettings = {
  thinking: boolean;
  maxTokens: number;
  temperature: number;
  seed: number;
  /** Client settings that change the request (prompt style, image cap…), in a fixed key order. */
  client?: Record<string, unknown>;
};

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

function imageKey(image: EvalImage): string {
  return "path" in image ? `path:${image.path}` : `bytes:${image.mime}:${sha256(image.bytes)}`;
}

/** What the model is asked and what it is scored against, as one string. */
function askedText(item: EvalItem): string {
  return JSON.stringify({
    prompt: item.prompt,
    images: item.images.map(imageKey),
    video: item.video ? { frames: item.video.frames.map(imageKey), seconds: item.video.seconds } : null,
    gold: item.gold ?? null,
  });
}

/**
 * `task` + a hash of what the model is asked and what it is scored against.
 * @example taskFingerprint("mmmu", item) // "mmmu:3f9a…" (16 hex digits)
 */
export function taskFingerprint(taskName: string, item: EvalItem): string {
  return `${taskName}:${sha256(askedText(item)).slice(0, 16)}`;
}

/** The response key: one hash of model, fingerprint, item id and settings (client settings sorted by name). */
export function responseKey(
  modelId: string,
  taskName: string,
  item: EvalItem,
  s: GenerationSettings,
): string {
  const client = Object.fromEntries(Object.entries(s.client ?? {}).sort(([a], [b]) => a.localeCompare(b)));
  const settings = [s.thinking, s.maxTokens, s.temperature, s.seed, client];
  // one hash over everything the fingerprint covers (hashing the fingerprint's hash again would cost a second pass)
  return sha256(JSON.stringify([modelId, taskName, askedText(item), item.id, settings]));
}

/** The judge key: judge id, the item (as above) and the text the judge read. */
export function judgeKey(judgeId: string, taskName: string, item: EvalItem, text: string): string {
  return sha256(JSON.stringify([judgeId, taskFingerprint(taskName, item), item.id, sha256(text)]));
}

/**
 * @example
 * const cache = ResponseCache.open("runs/eval1");
 * cache.getResponse(key) ?? cache.putResponse(key, await client.generate(req));
 */
export class ResponseCache {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string, string], { value: string }>;
  private readonly putStmt: Database.Statement<[string, string, string, number]>;

  private constructor(file: string) {
    this.db = new Database(file);
    // WAL + NORMAL: each write is one append, and a killed process loses at most what it had not written yet
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS entries (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, " +
        "created_ms INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID",
    );
    this.getStmt = this.db.prepare("SELECT value FROM entries WHERE kind = ? AND key = ?");
    this.putStmt = this.db.prepare("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)");
  }

  /** The cache of run folder `dir` (`dir/cache.sqlite`, folder created); `":memory:"` keeps it in memory. */
  static open(dir: string): ResponseCache {
    if (dir === ":memory:") return new ResponseCache(":memory:");
    mkdirSync(dir, { recursive: true });
    return new ResponseCache(join(dir, "cache.sqlite"));
  }

  getResponse(key: string): GenerationResult | undefined {
    const row = this.getStmt.get("response", key);
    return row ? (JSON.parse(row.value) as GenerationResult) : undefined;
  }

  putResponse(key: string, result: GenerationResult): void {
    const { text, finishReason, forcedAnswer, completionTokens } = result;
    const value = JSON.stringify({ text, finishReason, forcedAnswer, completionTokens });
    this.putStmt.run("response", key, value, Date.now());
  }

  getJudged(key: string): string | undefined {
    const row = this.getStmt.get("judge", key);
    return row ? (JSON.parse(row.value) as string) : undefined;
  }

  putJudged(key: string, extracted: string): void {
    this.putStmt.run("judge", key, JSON.stringify(extracted), Date.now());
  }

  /** How many entries of a kind are stored (for the run summary and tests). */
  count(kind: "response" | "judge"): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM entries WHERE kind = ?").get(kind) as { n: number }).n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
