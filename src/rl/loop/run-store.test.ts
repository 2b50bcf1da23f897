import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { GlmvError } from "../../util/errors.ts";
import { newPromptStats, observePrompt } from "../algorithm/curriculum.ts";
import { metricsAt } from "./metrics.fixture.ts";
import { RunStore } from "./run-store.ts";

const Config = z.object({ seed: z.number().int().default(0), steps: z.number().int().positive() });
const fresh = () => join(mkdtempSync(join(tmpdir(), "glmv-run-")), "run");

describe("run store", () => {
  it("validates the config and refuses to overwrite a run", async () => {
    const dir = fresh();
    await expect(RunStore.create(dir, Config, { steps: -1 } as never)).rejects.toThrow(GlmvError);
    const store = await RunStore.create(dir, Config, { steps: 3 });
    expect(store.readConfig(Config)).toEqual({ seed: 0, steps: 3 });
    store.close();
    await expect(RunStore.create(dir, Config, { steps: 3 })).rejects.toMatchObject({ code: "bad_argument" });
    expect(() => RunStore.open(join(dir, "nope"))).toThrow(/config.yaml is missing/);
  });

  it("rolls back to the last checkpoint: curriculum, metrics, rollouts, stray folders", async () => {
    const dir = fresh();
    const store = await RunStore.create(dir, Config, { steps: 10 });
    const stats = new Map([["p1", newPromptStats(0.5)]]);
    store.savePrompts(stats);
    await store.appendMetrics({ step: 1, loss: 1 });
    await store.writeRollouts(1, [{ id: "p1", reward: 1 }]);
    stats.set("p1", observePrompt(stats.get("p1")!, 1, [1, 0, 1]));
    store.savePrompts(stats);
    const ckdir = await store.saveCheckpoint(
      1,
      async (staging) => {
        mkdirSync(staging, { recursive: true });
        writeFileSync(join(staging, "model.safetensors"), "weights");
      },
      { ratioEma: 1.5 },
    );
    expect(existsSync(join(ckdir, "model.safetensors"))).toBe(true);

    // Work after the checkpoint, then a "crash": a torn metrics line and a half-built checkpoint folder.
    await store.appendMetrics({ step: 2, loss: 0.5 });
    await store.writeRollouts(2, [{ id: "p1", reward: 0 }]);
    stats.set("p1", observePrompt(stats.get("p1")!, 2, [0, 0, 0, 0, 0]));
    store.savePrompts(stats);
    await appendFile(join(dir, "metrics.jsonl"), '{"step": 3, "lo');
    mkdirSync(join(dir, "checkpoints", ".step-000002.abc.tmp"));
    store.close();

    const reopened = RunStore.open(dir);
    const ck = await reopened.rollBackToCheckpoint<{ ratioEma: number }>();
    expect(ck?.step).toBe(1);
    expect(ck?.trainerState.ratioEma).toBe(1.5);
    expect(reopened.readMetrics().map((m) => m.step)).toEqual([1]);
    expect(reopened.readRollouts(2)).toEqual([]);
    expect(reopened.readRollouts(1)).toEqual([{ id: "p1", reward: 1 }]);
    expect(reopened.loadPrompts().get("p1")?.trials).toBe(3);
    expect(readdirSync(join(dir, "checkpoints"))).toEqual(["step-000001"]);
    reopened.close();
  });

  it("keeps only the newest checkpoints", async () => {
    const store = await RunStore.create(fresh(), Config, { steps: 10 });
    for (const step of [1, 2, 3]) await store.saveCheckpoint(step, async (d) => mkdirSync(d), { step }, 2);
    expect(readdirSync(join(store.dir, "checkpoints")).sort()).toEqual(["step-000002", "step-000003"]);
    expect(store.latestCheckpoint()?.step).toBe(3);
    store.setMeta("phase", { name: "rl" });
    expect(store.getMeta<{ name: string }>("phase")?.name).toBe("rl");
    store.close();
  });

  it("a run without a checkpoint rolls back to nothing", async () => {
    const store = await RunStore.create(fresh(), Config, { steps: 10 });
    store.savePrompts(new Map([["a", newPromptStats(0.2)]]));
    await store.appendMetrics({ step: 0, x: 1 });
    expect(await store.rollBackToCheckpoint()).toBeNull();
    expect(store.loadPrompts().size).toBe(0);
    expect(store.readMetrics()).toEqual([]);
    store.close();
  });

  it("drops only a torn last metrics line, with a warning; any other bad line is an error naming it", async () => {
    const dir = fresh();
    const warnings: string[] = [];
    const store = await RunStore.create(dir, Config, { steps: 10 }, { warn: (l) => warnings.push(l) });
    for (const step of [1, 2, 3]) await store.appendMetrics({ step, loss: step });
    const path = join(dir, "metrics.jsonl");
    const good = readFileSync(path, "utf8");

    // a crash mid-append: the last line is cut short and has no newline
    await appendFile(path, '{"step": 4, "lo');
    expect(store.readMetrics().map((m) => m.step)).toEqual([1, 2, 3]);
    expect(store.readMetrics()).toHaveLength(3);
    expect(warnings).toHaveLength(1); // once per store, however often it reads
    expect(warnings[0]).toMatch(/metrics\.jsonl:4: dropped a torn last line/);

    // a damaged line in the middle is not a crash artefact: refusing beats a summary with fewer steps
    writeFileSync(path, good.replace('{"step":2,"loss":2}', '{"step":2,"lo#s":2'));
    expect(() => store.readMetrics()).toThrow(
      expect.objectContaining({
        code: "checkpoint_corrupt",
        where: `${path}:2`,
        message: expect.stringMatching(/^metrics\.jsonl line 2 is not valid JSON: /),
      }),
    );
    // so is an unparsable last line that was written whole (its newline is there)
    writeFileSync(path, `${good}not json\n`);
    expect(() => store.readMetrics()).toThrow(/metrics\.jsonl line 4 is not valid JSON/);
    // rollouts are written atomically: any bad line is corruption
    await store.writeRollouts(1, [{ a: 1 }, { a: 2 }]);
    const rollouts = join(dir, "rollouts", "step-000001.jsonl");
    writeFileSync(rollouts, '{"a":1}\n{"a":');
    expect(() => store.readRollouts(1)).toThrow(/step-000001\.jsonl line 2 is not valid JSON/);
    store.close();
  });

  it("reads metrics.jsonl back typed through the StepMetrics schema; a record that lost a figure names its step", async () => {
    const dir = fresh();
    const store = await RunStore.create(dir, Config, { steps: 10 });
    const written = [metricsAt(4), metricsAt(5)];
    for (const m of written) await store.appendMetrics(m);
    const read = store.readStepMetrics();
    expect(read).toEqual(written);
    // typed: the held-out result of step 5 reads as a number without a cast
    expect(read[1]!.heldout!.accuracy + 0).toBeCloseTo(0.55, 12);

    const path = join(dir, "metrics.jsonl");
    const { fill: _fill, ...withoutFill } = metricsAt(6);
    await store.appendMetrics(withoutFill);
    expect(() => store.readStepMetrics()).toThrow(
      expect.objectContaining({
        code: "checkpoint_corrupt",
        message: expect.stringMatching(
          /^fill must be a number, got .* in .*metrics\.jsonl \(record 3, step 6\)/,
        ),
        where: `${path} (record 3, step 6)`,
      }),
    );
    writeFileSync(path, `${JSON.stringify({ ...metricsAt(1), timings: { gen: "fast" } })}\n`);
    expect(() => store.readStepMetrics()).toThrow(/timings\.gen must be a number/);
    store.close();
  });

  it("reads a phase's meta record back through its schema; one that does not fit names the key", async () => {
    const dir = fresh();
    const store = await RunStore.create(dir, Config, { steps: 10 });
    const Record = z.object({ seconds: z.number() });
    expect(store.getMetaParsed("sft", Record)).toBeUndefined();
    store.setMeta("sft", { seconds: 4, stale: true });
    expect(store.getMetaParsed("sft", Record)).toEqual({ seconds: 4 });
    store.setMeta("control", { seconds: "4" });
    expect(() => store.getMetaParsed("control", Record)).toThrow(
      expect.objectContaining({
        code: "checkpoint_corrupt",
        message: expect.stringMatching(/^seconds must be a number, got "4" in .* meta 'control'/),
      }),
    );
    store.close();
  });
});
