/**
 * A run folder (design.md "Runs and storage"): `config.yaml`, `metrics.jsonl`, `rollouts/step-N.jsonl`,
 * `checkpoints/step-N/` and `state.sqlite` (the curriculum's per-prompt difficulty, the run index).
 *
 * Crash safety: a checkpoint folder is built under a temp name and renamed into place; only then does one SQLite
 * transaction record it together with a snapshot of the curriculum. Resuming reads the last recorded checkpoint,
 * restores the curriculum snapshot, and drops metrics and rollouts written after it. A `kill -9` at any moment
 * therefore loses at most the work since the last checkpoint, and never leaves a half-written file in use.
 */
import { existsSync, promises as fsp, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import Database from "better-sqlite3";
import { stringify as stringifyYaml } from "yaml";
import type { z } from "zod";
import { GlmvError } from "../../util/errors.ts";
import { tempSibling, writeFileAtomic } from "../../util/fs.ts";
import { readYamlFile } from "../../util/yaml-file.ts";
import { parseOrThrow } from "../../util/zod-error.ts";
import type { PromptStats } from "../algorithm/curriculum.ts";
import { StepMetrics } from "./step-metrics.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prompts (
  id TEXT PRIMARY KEY, offline_difficulty REAL NOT NULL, successes REAL NOT NULL, trials REAL NOT NULL, step INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS prompts_at_checkpoint (
  id TEXT PRIMARY KEY, offline_difficulty REAL NOT NULL, successes REAL NOT NULL, trials REAL NOT NULL, step INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (step INTEGER PRIMARY KEY, dir TEXT NOT NULL, created_at TEXT NOT NULL);
`;

type PromptRow = { id: string; offline_difficulty: number; successes: number; trials: number; step: number };

const toRow = (id: string, s: PromptStats): PromptRow => ({
  id,
  offline_difficulty: s.offlineDifficulty,
  successes: s.successes,
  trials: s.trials,
  step: s.step,
});
const fromRow = (r: PromptRow): PromptStats => ({
  offlineDifficulty: r.offline_difficulty,
  successes: r.successes,
  trials: r.trials,
  step: r.step,
});

const stepName = (step: number) => `step-${String(step).padStart(6, "0")}`;

/** What a checkpoint holds besides the model: whatever the trainer needs to continue (JSON). */
export type CheckpointRecord<T> = { step: number; dir: string; trainerState: T };

/** How a store reports what it repaired (a torn last metrics line); stderr by default. */
export type RunStoreOptions = { warn?: ((line: string) => void) | undefined };

/**
 * The records of a JSONL file. Only a torn final line (a crash mid-append: no newline after it, not JSON) is
 * dropped, through `onTorn`; any other line that is not JSON is corruption, an error naming the file and line.
 */
export function readJsonLines(path: string, onTorn?: (message: string) => void): unknown[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  const out: unknown[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      const lineNo = i + 1;
      const torn = i === lines.length - 1 && onTorn !== undefined; // the last line has no newline after it
      if (!torn)
        throw new GlmvError(
          "checkpoint_corrupt",
          `${basename(path)} line ${lineNo} is not valid JSON: ${(e as Error).message}`,
          { where: `${path}:${lineNo}`, cause: e },
        );
      onTorn(
        `${path}:${lineNo}: dropped a torn last line (a crash mid-write): ${JSON.stringify(line.slice(0, 60))}`,
      );
    }
  }
  return out;
}

export class RunStore {
  readonly dir: string;
  private readonly db: Database.Database;
  private readonly warn: (line: string) => void;
  /** Warnings already given (a store reads its metrics many times; each repair is reported once). */
  private readonly warned = new Set<string>();

  private constructor(dir: string, opts: RunStoreOptions = {}) {
    this.dir = dir;
    this.warn = opts.warn ?? ((line) => process.stderr.write(`warning: ${line}\n`));
    mkdirSync(join(dir, "rollouts"), { recursive: true });
    mkdirSync(join(dir, "checkpoints"), { recursive: true });
    this.db = new Database(join(dir, "state.sqlite"));
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec(SCHEMA);
  }

  /** Create a new run folder with a validated config. Refuses to overwrite a run that already has a config. */
  static async create<S extends z.ZodType>(
    dir: string,
    schema: S,
    config: z.input<S>,
    opts: RunStoreOptions = {},
  ): Promise<RunStore> {
    const parsed = parseOrThrow(schema, config, "bad_config");
    if (existsSync(join(dir, "config.yaml"))) {
      throw new GlmvError("bad_argument", "a run already exists here; use --resume to continue it", {
        where: dir,
      });
    }
    mkdirSync(dir, { recursive: true });
    await writeFileAtomic(join(dir, "config.yaml"), stringifyYaml(parsed));
    return new RunStore(dir, opts);
  }

  /** Open an existing run (for `--resume` or reading). */
  static open(dir: string, opts: RunStoreOptions = {}): RunStore {
    if (!existsSync(join(dir, "config.yaml"))) {
      throw new GlmvError("not_found", "no run here (config.yaml is missing)", { where: dir });
    }
    return new RunStore(dir, opts);
  }

  /** The run's config, validated again on read (a hand-edited config.yaml gets a clear error). */
  readConfig<S extends z.ZodType>(schema: S): z.output<S> {
    const path = join(this.dir, "config.yaml");
    const { value, lineOf } = readYamlFile(path);
    return parseOrThrow(schema, value, "bad_config", { source: path, lineOf });
  }

  close(): void {
    this.db.close();
  }

  // ---- metrics and rollouts ----------------------------------------------------------------------------------

  /** Append one metrics record (one line of metrics.jsonl). Every record carries its `step`. */
  async appendMetrics(record: { step: number } & Record<string, unknown>): Promise<void> {
    await fsp.appendFile(join(this.dir, "metrics.jsonl"), `${JSON.stringify(record)}\n`);
  }

  /**
   * All metrics records. A torn last line (a crash mid-append) is dropped with a warning, and removed by the next
   * resume; any other unparsable line is a `checkpoint_corrupt` error naming the line.
   */
  readMetrics(): ({ step: number } & Record<string, unknown>)[] {
    return readJsonLines(join(this.dir, "metrics.jsonl"), (line) => {
      if (this.warned.has(line)) return;
      this.warned.add(line);
      this.warn(line);
    }) as ({ step: number } & Record<string, unknown>)[];
  }

  /**
   * metrics.jsonl read back through the `StepMetrics` schema (a torn last line dropped as in `readMetrics`); a
   * record that lost a figure or holds a wrong type is a `checkpoint_corrupt` error naming its step and field.
   */
  readStepMetrics(): StepMetrics[] {
    const path = join(this.dir, "metrics.jsonl");
    return this.readMetrics().map((m, i) =>
      parseOrThrow(StepMetrics, m, "checkpoint_corrupt", {
        source: `${path} (record ${i + 1}, step ${m.step})`,
      }),
    );
  }

  /** Write one step's rollouts (one JSON line each, with the reward breakdown), atomically. */
  async writeRollouts(step: number, rows: readonly unknown[]): Promise<void> {
    const text = rows.map((r) => JSON.stringify(r)).join("\n");
    await writeFileAtomic(
      join(this.dir, "rollouts", `${stepName(step)}.jsonl`),
      rows.length ? `${text}\n` : "",
    );
  }

  /** One step's rollouts; written atomically, so any unparsable line is corruption (an error naming it). */
  readRollouts(step: number): unknown[] {
    return readJsonLines(join(this.dir, "rollouts", `${stepName(step)}.jsonl`));
  }

  // ---- curriculum state ----------------------------------------------------------------------------------------

  savePrompts(stats: ReadonlyMap<string, PromptStats>): void {
    const upsert = this.db.prepare(
      "INSERT INTO prompts VALUES (@id, @offline_difficulty, @successes, @trials, @step) ON CONFLICT(id) DO UPDATE SET offline_difficulty=excluded.offline_difficulty, successes=excluded.successes, trials=excluded.trials, step=excluded.step",
    );
    this.db.transaction(() => {
      for (const [id, s] of stats) upsert.run(toRow(id, s));
    })();
  }

  loadPrompts(): Map<string, PromptStats> {
    const rows = this.db.prepare("SELECT * FROM prompts").all() as PromptRow[];
    return new Map(rows.map((r) => [r.id, fromRow(r)]));
  }

  setMeta(key: string, value: unknown): void {
    this.db
      .prepare("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value")
      .run(key, JSON.stringify(value));
  }

  getMeta<T>(key: string): T | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  /** A meta value read back through `schema`; one that does not fit it is a `checkpoint_corrupt` error naming it. */
  getMetaParsed<S extends z.ZodType>(key: string, schema: S): z.output<S> | undefined {
    const value = this.getMeta<unknown>(key);
    if (value === undefined) return undefined;
    return parseOrThrow(schema, value, "checkpoint_corrupt", { source: `${this.dir} meta '${key}'` });
  }

  // ---- checkpoints -------------------------------------------------------------------------------------------

  /**
   * Save a checkpoint: `writeModel(stagingDir)` fills a fresh temp folder (it may create it), the trainer state
   * goes beside it, the folder is renamed to `checkpoints/step-N`, and then one transaction records it with a
   * snapshot of the curriculum. Older checkpoints beyond `keep` are removed.
   */
  async saveCheckpoint<T>(
    step: number,
    writeModel: (stagingDir: string) => Promise<void>,
    trainerState: T,
    keep = 2,
  ): Promise<string> {
    const dir = join(this.dir, "checkpoints", stepName(step));
    const staging = tempSibling(dir);
    try {
      await writeModel(staging);
      await fsp.mkdir(staging, { recursive: true });
      await writeFileAtomic(join(staging, "trainer-state.json"), JSON.stringify({ step, trainerState }));
      await fsp.rm(dir, { recursive: true, force: true });
      await fsp.rename(staging, dir);
    } catch (e) {
      await fsp.rm(staging, { recursive: true, force: true });
      throw e instanceof GlmvError
        ? e
        : new GlmvError("io_error", `checkpoint failed: ${(e as Error).message}`, { where: dir, cause: e });
    }
    this.db.transaction(() => {
      this.db.exec(
        "DELETE FROM prompts_at_checkpoint; INSERT INTO prompts_at_checkpoint SELECT * FROM prompts;",
      );
      this.db
        .prepare("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?)")
        .run(step, stepName(step), new Date().toISOString());
    })();
    this.pruneCheckpoints(keep);
    return dir;
  }

  /** The last recorded checkpoint, or null if the run has none. */
  latestCheckpoint<T>(): CheckpointRecord<T> | null {
    const row = this.db.prepare("SELECT step, dir FROM checkpoints ORDER BY step DESC LIMIT 1").get() as
      | { step: number; dir: string }
      | undefined;
    if (!row) return null;
    const dir = join(this.dir, "checkpoints", row.dir);
    const state = JSON.parse(readFileSync(join(dir, "trainer-state.json"), "utf8")) as {
      step: number;
      trainerState: T;
    };
    return { step: row.step, dir, trainerState: state.trainerState };
  }

  /**
   * Roll the run back to its last checkpoint before continuing: the curriculum returns to the snapshot taken
   * with it, metrics and rollouts after it are dropped, and stray temp or unrecorded checkpoint folders are
   * removed. Returns the checkpoint (null: start from scratch, with everything cleared).
   */
  async rollBackToCheckpoint<T>(): Promise<CheckpointRecord<T> | null> {
    const ckpt = this.latestCheckpoint<T>();
    const step = ckpt?.step ?? -1;
    this.db.transaction(() => {
      this.db.exec("DELETE FROM prompts;");
      if (ckpt) this.db.exec("INSERT INTO prompts SELECT * FROM prompts_at_checkpoint;");
    })();
    const kept = this.readMetrics().filter((m) => m.step <= step);
    await writeFileAtomic(
      join(this.dir, "metrics.jsonl"),
      kept.map((m) => `${JSON.stringify(m)}\n`).join(""),
    );
    for (const f of readdirSync(join(this.dir, "rollouts"))) {
      const m = /^step-(\d+)\.jsonl$/.exec(f);
      if (!m || Number(m[1]) > step) rmSync(join(this.dir, "rollouts", f), { force: true });
    }
    const recorded = new Set(
      (this.db.prepare("SELECT dir FROM checkpoints").all() as { dir: string }[]).map((r) => r.dir),
    );
    for (const f of readdirSync(join(this.dir, "checkpoints"))) {
      if (!recorded.has(f)) rmSync(join(this.dir, "checkpoints", f), { recursive: true, force: true });
    }
    return ckpt;
  }

  private pruneCheckpoints(keep: number): void {
    const rows = this.db.prepare("SELECT step, dir FROM checkpoints ORDER BY step DESC").all() as {
      step: number;
      dir: string;
    }[];
    for (const r of rows.slice(keep)) {
      // Forget the record first: a crash in between leaves an unrecorded folder, which resume removes.
      this.db.prepare("DELETE FROM checkpoints WHERE step = ?").run(r.step);
      rmSync(join(this.dir, "checkpoints", r.dir), { recursive: true, force: true });
    }
  }
}
