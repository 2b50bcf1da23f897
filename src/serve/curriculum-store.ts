/**
 * The curriculum server's state in SQLite (WAL, synchronous = FULL): the prompts with their RLCS statistics, the
 * step counter, the ratio-EMA and run totals. Every change is one transaction; callers acknowledge an observation
 * only after `observe` returns, i.e. after the commit reached the disk, so a `kill -9` loses nothing acknowledged.
 *
 * One process owns the database, and holds SQLite's exclusive lock on it while open (a second opener gets an
 * `io_error` naming the file); an in-memory copy of the per-prompt statistics is updated after each commit (never
 * before), so sampling reads no rows but what it returns.
 */
import Database from "better-sqlite3";
import {
  CURRICULUM_DEFAULTS,
  type CurriculumOptions,
  countCorrect,
  estimatedPassRate,
  newPromptStats,
  observePrompt,
  type PromptStats,
  sampleCurriculum,
} from "../rl/algorithm/curriculum.ts";
import {
  initRatioEma,
  promptsToSample,
  RATIO_EMA_DEFAULTS,
  type RatioEmaOptions,
  type RatioEmaState,
  updateRatioEma,
} from "../rl/algorithm/ratio-ema.ts";
import { GlmvError } from "../util/errors.ts";
import { mulberry32 } from "../util/rng.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS prompts (
  id TEXT PRIMARY KEY, payload TEXT NOT NULL, offline_difficulty REAL NOT NULL,
  successes REAL NOT NULL, trials REAL NOT NULL, step INTEGER NOT NULL,
  total_rollouts INTEGER NOT NULL DEFAULT 0, total_correct INTEGER NOT NULL DEFAULT 0,
  groups INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS observe_requests (request_id TEXT PRIMARY KEY, step INTEGER NOT NULL);
`;

/** One prompt line of the JSONL file: an id, anything the engine needs (prompt, messages, images…), a difficulty. */
export type PromptLine = { id: string; difficulty?: number | undefined; payload: Record<string, unknown> };

/** One group's outcome: the prompt id and the rewards of its rollouts. */
export type GroupResult = { id: string; rewards: number[] };

export type CurriculumStoreOptions = {
  curriculum?: Partial<CurriculumOptions> | undefined;
  ratio?: Partial<RatioEmaOptions> | undefined;
  /** A rollout counts as correct when its reward is at least this; default 0.5. */
  threshold?: number | undefined;
  /** Seed of the sampler, fixed when the store is created (default: random); step k draws with `seed ^ k`. */
  seed?: number | undefined;
};

/** Run totals kept across restarts. */
type Totals = {
  step: number;
  seed: number;
  ratio: RatioEmaState;
  groups: number;
  rollouts: number;
  calls: number;
};

export type SampleResult = {
  step: number;
  prompts: Record<string, unknown>[];
  /** How many prompts to ask for next time to keep `n` groups with signal: `ceil(n · ratioEma)`. */
  nextN: number;
};

export type ObserveResult = {
  step: number;
  groups: number;
  invalidRate: number;
  ratioEma: number;
  /** True when this `requestId` was already applied (a retry): nothing changed. */
  duplicate: boolean;
};

export type CurriculumStats = {
  prompts: number;
  step: number;
  ratioEma: number;
  ratioSteps: number;
  observedGroups: number;
  observedRollouts: number;
  observeCalls: number;
  /** Mean estimated pass rate p̂ over all prompts at the current step. */
  meanPassRate: number;
};

/** A group has no learning signal when its rewards do not vary (an epsilon test, not `std != 0`). */
function noSignal(rewards: readonly number[]): boolean {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const r of rewards) {
    lo = Math.min(lo, r);
    hi = Math.max(hi, r);
  }
  return rewards.length < 2 || hi - lo < 1e-6;
}

export class CurriculumStore {
  private readonly db: Database.Database;
  private readonly stats = new Map<string, PromptStats>();
  private readonly opts: CurriculumOptions;
  private readonly ratioOpts: RatioEmaOptions;
  private readonly threshold: number;
  private totals: Totals;

  private constructor(path: string, opts: CurriculumStoreOptions) {
    this.opts = { ...CURRICULUM_DEFAULTS, ...opts.curriculum };
    this.ratioOpts = { ...RATIO_EMA_DEFAULTS, ...opts.ratio };
    this.threshold = opts.threshold ?? 0.5;
    try {
      this.db = new Database(path);
    } catch (e) {
      throw new GlmvError("io_error", `cannot open curriculum db: ${(e as Error).message}`, {
        where: path,
        cause: e,
      });
    }
    try {
      // One process owns the database (the step counter and statistics live in its memory): hold SQLite's
      // exclusive lock for the connection's lifetime, so a second server on the same file fails at once instead of
      // handing out the same step numbers. The OS drops the lock when the process dies, even on kill -9.
      this.db.pragma("locking_mode = EXCLUSIVE");
      this.db.pragma("busy_timeout = 0");
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = FULL");
      this.db.exec(SCHEMA);
      this.db.exec("BEGIN EXCLUSIVE; COMMIT");
    } catch (e) {
      this.db.close();
      const busy = (e as { code?: unknown }).code === "SQLITE_BUSY";
      throw new GlmvError(
        "io_error",
        busy
          ? "curriculum db is in use by another process (one glmv serve curriculum per --db)"
          : `cannot open curriculum db: ${(e as Error).message}`,
        { where: path, cause: e },
      );
    }
    const saved = this.db.prepare("SELECT value FROM state WHERE key = 'totals'").get() as
      | { value: string }
      | undefined;
    this.totals = saved
      ? (JSON.parse(saved.value) as Totals)
      : {
          step: 0,
          seed: (opts.seed ?? Math.random() * 2 ** 32) >>> 0,
          ratio: initRatioEma(),
          groups: 0,
          rollouts: 0,
          calls: 0,
        };
    const rows = this.db
      .prepare("SELECT id, offline_difficulty, successes, trials, step FROM prompts")
      .all() as { id: string; offline_difficulty: number; successes: number; trials: number; step: number }[];
    for (const r of rows) {
      this.stats.set(r.id, {
        offlineDifficulty: r.offline_difficulty,
        successes: r.successes,
        trials: r.trials,
        step: r.step,
      });
    }
  }

  /**
   * Open (or create) the store at `path`.
   * @example const store = CurriculumStore.open("curriculum.sqlite"); store.loadPrompts(lines);
   */
  static open(path: string, opts: CurriculumStoreOptions = {}): CurriculumStore {
    return new CurriculumStore(path, opts);
  }

  close(): void {
    this.db.close();
  }

  private saveTotals(totals: Totals): void {
    this.db
      .prepare("INSERT INTO state VALUES ('totals', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .run(JSON.stringify(totals));
  }

  /** Write the totals in their own transaction; memory follows only after the commit. */
  private commitTotals(totals: Totals): void {
    this.db.transaction(() => this.saveTotals(totals))();
    this.totals = totals;
  }

  /** Add prompts not yet in the store (ids already present keep their statistics). Returns how many were new. */
  loadPrompts(lines: readonly PromptLine[]): number {
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO prompts (id, payload, offline_difficulty, successes, trials, step) VALUES (?, ?, ?, 0, 0, 0)",
    );
    const added: [string, PromptStats][] = [];
    this.db.transaction(() => {
      for (const line of lines) {
        const s = newPromptStats(line.difficulty ?? 0.5);
        if (insert.run(line.id, JSON.stringify(line.payload), s.offlineDifficulty).changes > 0)
          added.push([line.id, s]);
      }
      this.saveTotals(this.totals);
    })();
    for (const [id, s] of added) this.stats.set(id, s);
    return added.length;
  }

  /** Start the next step and draw `n` distinct prompts by RLCS weight. */
  sample(n: number): SampleResult {
    const step = this.totals.step + 1;
    const ids = sampleCurriculum(this.stats, n, step, mulberry32((this.totals.seed ^ step) >>> 0), this.opts);
    this.commitTotals({ ...this.totals, step });
    const get = this.db.prepare("SELECT payload FROM prompts WHERE id = ?");
    const prompts = ids.map((id) => {
      const row = get.get(id) as { payload: string };
      return { ...(JSON.parse(row.payload) as Record<string, unknown>), id };
    });
    return { step, prompts, nextN: promptsToSample(n, this.totals.ratio) };
  }

  /**
   * Record groups in one transaction: RLCS statistics per prompt, then one ratio-EMA update from this call's
   * invalid-group rate. Unknown ids reject the whole call. A repeated `requestId` is acknowledged without effect.
   */
  observe(results: readonly GroupResult[], requestId?: string): ObserveResult {
    results.forEach((r, i) => {
      if (!this.stats.has(r.id))
        throw new GlmvError("not_found", `unknown prompt id '${r.id.slice(0, 100)}'`, {
          where: `results.${i}.id`,
        });
    });
    const step = this.totals.step;
    const invalidRate =
      results.length === 0 ? 0 : results.filter((r) => noSignal(r.rewards)).length / results.length;
    const updated = new Map<string, PromptStats>();
    let duplicate = false;
    const update = this.db.prepare(
      `UPDATE prompts SET successes = ?, trials = ?, step = ?, total_rollouts = total_rollouts + ?,
       total_correct = total_correct + ?, groups = groups + 1 WHERE id = ?`,
    );
    const next: Totals = { ...this.totals };
    this.db
      .transaction(() => {
        if (requestId !== undefined) {
          const seen = this.db
            .prepare("INSERT OR IGNORE INTO observe_requests VALUES (?, ?)")
            .run(requestId, step).changes;
          if (seen === 0) {
            duplicate = true;
            return;
          }
        }
        for (const r of results) {
          const s = observePrompt(
            updated.get(r.id) ?? this.stats.get(r.id)!,
            step,
            r.rewards,
            this.opts,
            this.threshold,
          );
          updated.set(r.id, s);
          const right = countCorrect(r.rewards, this.threshold);
          update.run(s.successes, s.trials, s.step, r.rewards.length, right, r.id);
        }
        if (results.length > 0) next.ratio = updateRatioEma(this.totals.ratio, invalidRate, this.ratioOpts);
        next.groups += results.length;
        next.rollouts += results.reduce((a, r) => a + r.rewards.length, 0);
        next.calls += 1;
        this.saveTotals(next);
      })
      .immediate();
    // Only after the commit: the in-memory copy never runs ahead of the disk.
    if (!duplicate) this.totals = next;
    for (const [id, s] of updated) this.stats.set(id, s);
    return {
      step,
      groups: duplicate ? 0 : results.length,
      invalidRate,
      ratioEma: this.totals.ratio.ema,
      duplicate,
    };
  }

  /** Totals and the mean estimated pass rate. */
  summary(): CurriculumStats {
    let sum = 0;
    for (const s of this.stats.values()) sum += estimatedPassRate(s, this.totals.step, this.opts);
    return {
      prompts: this.stats.size,
      step: this.totals.step,
      ratioEma: this.totals.ratio.ema,
      ratioSteps: this.totals.ratio.steps,
      observedGroups: this.totals.groups,
      observedRollouts: this.totals.rollouts,
      observeCalls: this.totals.calls,
      meanPassRate: this.stats.size === 0 ? 0 : sum / this.stats.size,
    };
  }

  /** One prompt's statistics and raw totals, or null if the id is unknown. */
  prompt(
    id: string,
  ): (PromptStats & { passRate: number; rollouts: number; correct: number; groups: number }) | null {
    const s = this.stats.get(id);
    if (!s) return null;
    const row = this.db
      .prepare("SELECT total_rollouts, total_correct, groups FROM prompts WHERE id = ?")
      .get(id) as { total_rollouts: number; total_correct: number; groups: number };
    return {
      ...s,
      passRate: estimatedPassRate(s, this.totals.step, this.opts),
      rollouts: row.total_rollouts,
      correct: row.total_correct,
      groups: row.groups,
    };
  }
}

/**
 * Parse the prompts JSONL: each line an object with `id` (string or number) and optional `difficulty` in [0, 1];
 * everything else is the payload returned by `/v1/sample`. A bad line is an error naming its line number; an id
 * seen twice (`1` and `"1"` are the same id) is an error naming both lines.
 * @example parsePromptsJsonl('{"id":1,"prompt":"2+2?","difficulty":0.2}') // [{ id: "1", difficulty: 0.2, payload: {…} }]
 */
export function parsePromptsJsonl(text: string, where = "prompts"): PromptLine[] {
  const out: PromptLine[] = [];
  const lineOfId = new Map<string, number>();
  text.split("\n").forEach((line, i) => {
    if (line.trim().length === 0) return;
    const at = `${where}:${i + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new GlmvError("bad_input", `invalid JSON: ${(e as Error).message}`, { where: at });
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      throw new GlmvError("bad_input", "a prompt line must be a JSON object", { where: at });
    const { id, difficulty, ...payload } = raw as Record<string, unknown>;
    if (typeof id !== "string" && typeof id !== "number")
      throw new GlmvError("bad_input", "missing 'id' (string or number)", { where: `${at}.id` });
    if (difficulty !== undefined && !(typeof difficulty === "number" && difficulty >= 0 && difficulty <= 1))
      throw new GlmvError("bad_input", "'difficulty' must be a number in [0, 1]", {
        where: `${at}.difficulty`,
      });
    const key = String(id);
    const first = lineOfId.get(key);
    if (first !== undefined)
      throw new GlmvError(
        "bad_input",
        `duplicate prompt id '${key.slice(0, 100)}' on lines ${first} and ${i + 1} (ids must be unique)`,
        { where: `${at}.id` },
      );
    lineOfId.set(key, i + 1);
    out.push({ id: key, difficulty: difficulty as number | undefined, payload });
  });
  return out;
}
