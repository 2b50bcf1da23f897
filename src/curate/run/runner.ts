/**
 * `glmv data run`: every shard of the input through every stage. Level 0 stores the input as read; level k is stage
 * k's output. A shard of a level is skipped when its marker matches the current config and the input it was made
 * from; otherwise it is redone in full and committed atomically, so `kill -9` at any moment loses at most the
 * shards in flight and a rerun gives the same bytes. Items run in a worker pool across items and shards; each
 * shard is written in input order whatever order its items finish in.
 */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import { type InputShards, openInput } from "../formats/input.ts";
import type { NotedItem } from "../formats/item-tar.ts";
import { writeOutputShard } from "../formats/output.ts";
import { type Pipeline, sha256 } from "../pipeline.ts";
import type { CurateItem } from "../stage.ts";
import { type Phase, planPhases, requirePreviousPhase } from "./phases.ts";
import { StagePool } from "./pool.ts";
import { type ShardMarker, type ShardStore, shardStore } from "./store.ts";
import { collectSummary, levelHash, outputHash, type RunSummary, writeSummary } from "./summary.ts";

/** Dropped items kept per reason per shard for the report (with their media). */
export const DROPPED_SAMPLE_PER_REASON = 32;

export type ShardEvent = {
  level: number | "output";
  name: string;
  shard: number;
  marker: ShardMarker;
  skipped: boolean;
};

export type RunOptions = {
  out: string;
  /** This task's index (0-based) of `of`: it runs the shards s with s mod of == shard. */
  shard?: number;
  of?: number;
  /** Run only this phase (a scheduler's job per phase); default all, in order. */
  phase?: number;
  /** Called when the run knows its work: how many shard-steps it has to do. */
  onStart?: (info: { steps: number; shards: number[]; phases: Phase[] }) => void;
  /** Called after each shard of each level (and each output shard), done or skipped. */
  onShard?: (event: ShardEvent) => void;
};

type Ctx = { pipeline: Pipeline; store: ShardStore; input: InputShards; pool: StagePool | undefined };

async function collect(items: AsyncIterable<CurateItem>): Promise<CurateItem[]> {
  const all: CurateItem[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Stage `level` (≥ 1) on one shard's items: kept items in input order, drop counts, a capped dropped sample. */
async function applyStage(ctx: Ctx, level: number, shard: number, items: CurateItem[]) {
  const outcomes = await Promise.all(items.map((item) => ctx.pool!.process(level - 1, shard, item)));
  const kept: CurateItem[] = [];
  const dropped: Record<string, number> = {};
  const sample: NotedItem[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.kind === "keep") {
      kept.push(...outcome.items);
      for (const [reason, n] of Object.entries(outcome.dropped ?? {}))
        dropped[reason] = (dropped[reason] ?? 0) + n;
      continue;
    }
    const n = (dropped[outcome.reason] ?? 0) + 1;
    dropped[outcome.reason] = n;
    if (n <= DROPPED_SAMPLE_PER_REASON)
      sample.push({
        item: items[i]!,
        note: { reason: outcome.reason, ...(outcome.detail ? { detail: outcome.detail } : {}) },
      });
  }
  return { kept, dropped, sample };
}

/** One shard of one level: skipped when its marker is current, else made and committed. */
async function runShardLevel(ctx: Ctx, level: number, shard: number): Promise<ShardEvent> {
  const { pipeline, store } = ctx;
  const name = level === 0 ? "input" : pipeline.stages[level - 1]!.use;
  const source =
    level === 0 ? await ctx.input.fingerprint(shard) : (await store.marker(level - 1, shard))?.outputSha256;
  if (source === undefined)
    throw new GlmvError("bad_input", `shard ${shard} of level ${level - 1} is not finished`, {
      where: store.dir(level - 1),
    });
  const configHash = levelHash(pipeline, level);
  const inputDigest = sha256(source);
  const existing = await store.marker(level, shard);
  if (existing && existing.configHash === configHash && existing.inputDigest === inputDigest)
    return { level, name, shard, marker: existing, skipped: true };
  const started = performance.now();
  const items = await collect(level === 0 ? ctx.input.readShard(shard) : store.items(level - 1, shard));
  const { kept, dropped, sample } =
    level === 0 ? { kept: items, dropped: {}, sample: [] } : await applyStage(ctx, level, shard, items);
  const seconds = Math.round(performance.now() - started) / 1000;
  const marker = await store.commit(level, shard, kept, sample, {
    name,
    configHash,
    inputDigest,
    in: items.length,
    kept: kept.length,
    dropped,
    seconds,
  });
  return { level, name, shard, marker, skipped: false };
}

/** The final output of one shard, from the last level. */
async function runOutputShard(ctx: Ctx, shard: number): Promise<ShardEvent> {
  const { pipeline, store } = ctx;
  const last = pipeline.stages.length;
  const lastMarker = await store.marker(last, shard);
  if (!lastMarker) throw new GlmvError("bad_input", `shard ${shard} of the last stage is not finished`);
  const configHash = outputHash(pipeline);
  const existing = await store.marker("output", shard);
  if (existing && existing.configHash === configHash && existing.inputDigest === lastMarker.outputSha256)
    return { level: "output", name: "output", shard, marker: existing, skipped: true };
  const started = performance.now();
  const items = await collect(store.items(last, shard));
  const files = await writeOutputShard(join(store.out, "output"), pipeline.output, shard, items);
  const marker: ShardMarker = {
    level: last + 1,
    name: "output",
    shard,
    configHash,
    inputDigest: lastMarker.outputSha256,
    outputSha256: "",
    in: items.length,
    kept: items.length,
    dropped: {},
    seconds: Math.round(performance.now() - started) / 1000,
    files,
  };
  await store.writeOutputMarker(shard, marker);
  return { level: "output", name: "output", shard, marker, skipped: false };
}

/** Run `fn` over `items` with at most `limit` at a time; the first failure fails the whole. */
async function mapLimit<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}

/** Which shards this task runs. */
function taskShards(shardCount: number, shard = 0, of = 1): number[] {
  if (!(Number.isInteger(of) && of >= 1 && Number.isInteger(shard) && shard >= 0 && shard < of))
    throw new GlmvError(
      "bad_argument",
      `--shard must be an integer in [0, ${of - 1}] and --of ≥ 1, got ${shard} of ${of}`,
    );
  return Array.from({ length: shardCount }, (_, s) => s).filter((s) => s % of === shard);
}

/**
 * Run a pipeline into `out` (all of it, or this task's share: `shard` of `of`, one `phase`), then write
 * `OUT/summary.json` with the counts of every shard finished so far.
 * @example const summary = await runPipeline(await loadPipeline("p.yaml"), { out: "runs/p" });
 */
export async function runPipeline(pipeline: Pipeline, opts: RunOptions): Promise<RunSummary> {
  const out = resolve(opts.out);
  const store = shardStore(
    out,
    pipeline.stages.map((s) => s.use),
  );
  const stateDir = join(out, "state");
  await mkdir(stateDir, { recursive: true });
  const input = await openInput(pipeline);
  const shards = taskShards(input.shardCount, opts.shard, opts.of);
  const phases = await planPhases(pipeline);
  if (opts.phase !== undefined && !phases[opts.phase])
    throw new GlmvError(
      "bad_argument",
      `--phase must be in [0, ${phases.length - 1}] (this pipeline has ${phases.length})`,
    );
  const toRun = opts.phase === undefined ? phases : [phases[opts.phase]!];
  const steps = toRun.reduce((n, p) => n + p.to - p.from + 1, 0) + (toRun.at(-1) === phases.at(-1) ? 1 : 0);
  opts.onStart?.({ steps: steps * shards.length, shards, phases });
  const pool = pipeline.stages.length
    ? new StagePool({
        size: pipeline.workers,
        itemTimeoutMs: pipeline.itemTimeoutMs,
        data: {
          modules: pipeline.modules,
          stages: pipeline.stages.map((s) => ({ use: s.use, raw: s.raw })),
          baseDir: pipeline.baseDir,
          stateDir,
          out,
          stageNames: pipeline.stages.map((s) => s.use),
          shardCount: input.shardCount,
        },
      })
    : undefined;
  const ctx: Ctx = { pipeline, store, input, pool };
  const shardLanes = Math.max(2, Math.min(8, pipeline.workers));
  try {
    for (const phase of toRun) {
      if (phase.index > 0) await requirePreviousPhase(store, pipeline, phase, input.shardCount);
      await mapLimit(shards, shardLanes, async (shard) => {
        for (let level = phase.from; level <= phase.to; level++) {
          const event = await runShardLevel(ctx, level, shard); // awaited first: `?.()` would skip its argument
          opts.onShard?.(event);
        }
        if (phase === phases.at(-1)) {
          const event = await runOutputShard(ctx, shard);
          opts.onShard?.(event);
        }
      });
    }
  } finally {
    await pool?.close();
  }
  const summary = await collectSummary(store, pipeline, input.shardCount);
  await writeSummary(out, summary);
  return summary;
}
