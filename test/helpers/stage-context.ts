/** Opening and running one curation stage in a test, without the runner. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CurateItem, OpenContext, StageDef, StageOutcome } from "../../src/curate/stage.ts";

/** A context whose state folder is a fresh temp folder and whose `scanInput` yields `input`. */
export function stageContext(input: CurateItem[] = [], stateDir?: string): OpenContext {
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), "glmv-stage-"));
  return {
    baseDir: dir,
    stateDir: dir,
    async *scanInput() {
      yield* input;
    },
  };
}

/** Parse the options with the stage's schema, open it, run every item through it in order, close it. */
export async function runStage<O>(
  stage: StageDef<O>,
  options: unknown,
  items: CurateItem[],
  ctx: OpenContext = stageContext(items),
): Promise<StageOutcome[]> {
  const instance = await stage.open(stage.options.parse(options), ctx);
  const signal = new AbortController().signal;
  try {
    const out: StageOutcome[] = [];
    for (const item of items) out.push(await instance.process(item, { shard: 0, signal }));
    return out;
  } finally {
    await instance.close?.();
  }
}

/** An image–caption item. */
export const pairItem = (
  id: string,
  bytes: Uint8Array | undefined,
  caption: string,
  ext = "jpg",
): CurateItem => ({
  id,
  media: bytes ? [{ name: `0.${ext}`, bytes }] : [],
  fields: { caption },
});

/** The drop reason of an outcome, or "keep". */
export const verdict = (o: StageOutcome): string => (o.kind === "keep" ? "keep" : o.reason);
