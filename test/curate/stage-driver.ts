/**
 * Test helper for single stages: a stage driven item by item as the runner drives it (open once with a context,
 * process each item with a shard and a signal, close).
 */
import type { AnyStageDef, CurateItem, OpenContext, StageOutcome } from "../../src/curate/stage.ts";

/** An OpenContext over a given state folder whose `scanInput` yields `items`. */
export function openContext(stateDir: string, items: CurateItem[] = []): OpenContext {
  return {
    baseDir: stateDir,
    stateDir,
    async *scanInput() {
      yield* items;
    },
  };
}

/** Open `stage` with raw YAML-like options (parsed by its schema), run `items` through it in order, close it. */
export async function runStage(
  stage: AnyStageDef,
  rawOptions: unknown,
  items: CurateItem[],
  ctx: OpenContext,
): Promise<StageOutcome[]> {
  const instance = await stage.open(stage.options.parse(rawOptions), ctx);
  try {
    const outcomes: StageOutcome[] = [];
    for (const item of items)
      outcomes.push(await instance.process(item, { shard: 0, signal: new AbortController().signal }));
    return outcomes;
  } finally {
    await instance.close?.();
  }
}

/** The single kept item of an outcome (fails the test with the drop otherwise). */
export function keptOne(outcome: StageOutcome | undefined): CurateItem {
  if (outcome?.kind !== "keep" || outcome.items.length !== 1)
    throw new Error(`expected one kept item, got ${JSON.stringify(outcome)}`);
  return outcome.items[0]!;
}
