/**
 * Phases: a stage whose `open` reads its whole input (`scanInput`, e.g. concept frequencies for resampling) needs
 * every shard of the level before it, from every task. A pipeline therefore splits into phases at such stages: the
 * tasks of a phase run in parallel, and a phase starts only when the previous one has finished on every shard (one
 * array job per phase, chained by `afterok` dependencies, is what `glmv data plan` writes).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import type { Pipeline } from "../pipeline.ts";
import type { ShardStore } from "./store.ts";

/** A run of levels `[from, to]` (level 0 = reading the input, level k = stage k). */
export type Phase = {
  index: number;
  from: number;
  to: number /** The stage that starts it, if not the first. */;
  barrier?: string;
};

/**
 * Which stages read their whole input: each is opened once with a probe context (a scratch state folder, a
 * `scanInput` that records the call and yields nothing) and closed again.
 */
export async function stagesReadingAllInput(pipeline: Pipeline): Promise<number[]> {
  const found: number[] = [];
  for (const [i, stage] of pipeline.stages.entries()) {
    const stateDir = await mkdtemp(join(tmpdir(), "glmv-probe-"));
    let scans = false;
    try {
      const instance = await stage.def.open(stage.options, {
        baseDir: pipeline.baseDir,
        stateDir,
        // biome-ignore lint/correctness/useYield: the probe only records that the stage asked for its input
        scanInput: async function* () {
          scans = true;
        },
      });
      await instance.close?.();
    } catch (e) {
      if (!scans)
        throw new GlmvError("bad_config", `stage ${stage.use} failed to open: ${(e as Error).message}`, {
          where: `stages.${i}`,
          cause: e,
        });
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
    if (scans) found.push(i);
  }
  return found;
}

/**
 * The pipeline's phases.
 * @example await planPhases(p) // [{ index: 0, from: 0, to: 2 }, { index: 1, from: 3, to: 4, barrier: "concept-balance" }]
 */
export async function planPhases(pipeline: Pipeline): Promise<Phase[]> {
  const barriers = await stagesReadingAllInput(pipeline);
  const phases: Phase[] = [{ index: 0, from: 0, to: pipeline.stages.length }];
  for (const stage of barriers) {
    const level = stage + 1;
    phases.at(-1)!.to = level - 1;
    phases.push({
      index: phases.length,
      from: level,
      to: pipeline.stages.length,
      barrier: pipeline.stages[stage]!.use,
    });
  }
  return phases;
}

/** The shards of `level` that are not finished under the current config, over all shards. */
export async function missingShards(
  store: ShardStore,
  level: number,
  configHash: string,
  shardCount: number,
): Promise<number[]> {
  const missing: number[] = [];
  for (let s = 0; s < shardCount; s++)
    if ((await store.marker(level, s))?.configHash !== configHash) missing.push(s);
  return missing;
}

/** Refuse to start phase `phase` while the level before it is unfinished on some shard, naming them. */
export async function requirePreviousPhase(
  store: ShardStore,
  pipeline: Pipeline,
  phase: Phase,
  shardCount: number,
): Promise<void> {
  const level = phase.from - 1;
  const hash = level === 0 ? pipeline.inputHash : pipeline.stages[level - 1]!.chainHash;
  const missing = await missingShards(store, level, hash, shardCount);
  if (missing.length === 0) return;
  const list =
    missing.length > 20
      ? `${missing.slice(0, 20).join(", ")} … (${missing.length} in all)`
      : missing.join(", ");
  throw new GlmvError(
    "bad_input",
    `phase ${phase.index} starts at stage ${phase.from} (${phase.barrier}), which reads every shard of level ${level} ` +
      `(${store.dir(level)}); not finished there: shard${missing.length > 1 ? "s" : ""} ${list}. ` +
      `Run phase ${phase.index - 1} on every task first (glmv data plan chains the phases).`,
    { where: store.dir(level) },
  );
}
