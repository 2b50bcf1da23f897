import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { metricsAt } from "../loop/metrics.fixture.ts";
import { finishedSummary } from "./main-job-checks.ts";
import { parseSummary, Summary, summarizeRun } from "./summary.ts";
import type { FlatSummary } from "./summary-flat.ts";

const close = (x: number) => expect.closeTo(x, 12);

/**
 * Run folders the flat version wrote (commit c29d907, `glmv rl`): `with-control` (config.yaml, summary.json) and
 * `no-control`'s summary.json (the short main job of seed 1 with `--no-control`).
 */
const FLAT_RUNS = fileURLToPath(new URL("../../../test/fixtures/rl-flat-summary/", import.meta.url));
const flatText = (run: "with-control" | "no-control") =>
  readFileSync(join(FLAT_RUNS, run, "summary.json"), "utf8");

/** Each flat key and where its figure lives now (every key of the flat schema: the type checks that). */
const FLAT_TO_NESTED: Record<keyof FlatSummary, string> = {
  sampler: "rl.sampler",
  sftAccuracy: "sft.accuracy",
  rlAccuracy: "rl.accuracy",
  continuedSftAccuracy: "control.accuracy",
  sftPerFamily: "sft.perFamily",
  rlPerFamily: "rl.perFamily",
  continuedSftPerFamily: "control.perFamily",
  sftSampledAccuracy: "sft.sampledAccuracy",
  rlSampledAccuracy: "rl.sampledAccuracy",
  continuedSftSampledAccuracy: "control.sampledAccuracy",
  sftPerLevel: "sft.perLevel",
  rlPerLevel: "rl.perLevel",
  continuedSftPerLevel: "control.perLevel",
  heldoutItems: "heldoutItems",
  rlSteps: "rl.steps",
  rlSeconds: "rl.seconds",
  continuedSftSteps: "control.steps",
  sftSeconds: "sft.seconds",
  signalShare: "rl.signalShare",
  sampledSignalRate: "rl.sampledSignalRate",
  tokensPerSec: "rl.tokensPerSec",
  balance: "rl.balance",
  fill: "rl.fill",
  rolloutsTotal: "rl.rolloutsTotal",
  offlineDifficulty: "offline.difficulty",
  offlineScoringSeconds: "offline.seconds",
  wallSeconds: "wallSeconds",
  warnings: "warnings",
};
const at = (value: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | null)?.[k], value);

/** A summary.json as the first main-job runs wrote it: before sampled accuracy, levels, offline difficulty, warnings. */
const FIRST_FLAT_SUMMARY = {
  sampler: "rlcs",
  sftAccuracy: 0.525,
  rlAccuracy: 0.863,
  continuedSftAccuracy: 0.6,
  sftPerFamily: { counting: 0.525 },
  rlPerFamily: { counting: 0.863 },
  continuedSftPerFamily: { counting: 0.6 },
  heldoutItems: 512,
  rlSteps: 30,
  rlSeconds: 300,
  continuedSftSteps: 900,
  sftSeconds: 60,
  signalShare: 0.9,
  sampledSignalRate: 0.7,
  tokensPerSec: 1500,
  balance: 1.01,
  fill: 0.93,
  rolloutsTotal: 4000,
  wallSeconds: 700,
};

describe("summarizeRun", () => {
  const heldout = (accuracy: number) => ({ accuracy, perFamily: { counting: accuracy }, items: 64 });
  const metrics = [metricsAt(1), { ...metricsAt(2), signalShare: 0.5, fill: 0.7, tokensPerSec: 3000 }];

  it("groups each phase's figures, averages the per-step ones over its steps, and takes the last rollout count", () => {
    const summary = summarizeRun({
      sampler: "rlcs",
      sft: {
        heldout: { ...heldout(0.5), perLevel: { "1": 0.6 }, sampledAccuracy: 0.2 },
        steps: 20,
        seconds: 4,
      },
      rl: { heldout: heldout(0.75), seconds: 12 },
      metrics,
      control: { heldout: heldout(0.55), steps: 40, seconds: 12 },
      offline: { seconds: 9 },
      wallSeconds: 30,
      warnings: ["w"],
    });
    expect(summary).toEqual({
      sft: {
        accuracy: 0.5,
        sampledAccuracy: 0.2,
        perFamily: { counting: 0.5 },
        perLevel: { "1": 0.6 },
        seconds: 4,
      },
      offline: { difficulty: "sft-likelihood", seconds: 9 },
      rl: {
        sampler: "rlcs",
        accuracy: 0.75,
        sampledAccuracy: null,
        perFamily: { counting: 0.75 },
        perLevel: {},
        steps: 2,
        seconds: 12,
        signalShare: close(0.75),
        sampledSignalRate: close(0.8),
        tokensPerSec: close(2000),
        balance: close(1.01),
        fill: close(0.8),
        rolloutsTotal: 320,
      },
      control: {
        accuracy: 0.55,
        sampledAccuracy: null,
        perFamily: { counting: 0.55 },
        perLevel: {},
        steps: 40,
      },
      heldoutItems: 64,
      wallSeconds: 30,
      warnings: ["w"],
    });
    // every figure it writes is one the schema knows, and reads back unchanged
    expect(Summary.strict().parse(summary)).toEqual(summary);
    expect(parseSummary(JSON.stringify(summary), "runs/new/summary.json")).toEqual(summary);
  });

  it("is null for a control that did not run and for the task-level curriculum's scoring", () => {
    const summary = summarizeRun({
      sampler: "uniform",
      sft: { heldout: heldout(0.5), steps: 20, seconds: 4 },
      rl: { heldout: heldout(0.75), seconds: 12 },
      metrics: [],
      wallSeconds: 30,
      warnings: [],
    });
    expect(summary.control).toBeNull();
    expect(summary.offline).toEqual({ difficulty: "level", seconds: null });
    expect(summary.rl).toMatchObject({ sampler: "uniform", steps: 0, rolloutsTotal: 0, signalShare: 0 });
    expect(parseSummary(JSON.stringify(summary), "runs/new/summary.json")).toEqual(summary);
  });
});

describe("summary.json written flat (before the grouping) read back", () => {
  for (const run of ["with-control", "no-control"] as const)
    it(`nests every figure of a real flat summary.json under its new name (${run})`, () => {
      const flat = JSON.parse(flatText(run)) as Record<string, unknown>;
      expect(Object.keys(flat).sort()).toEqual(Object.keys(FLAT_TO_NESTED).sort()); // the last flat version's
      const nested = parseSummary(flatText(run), `${run}/summary.json`);
      expect(Summary.strict().parse(nested)).toEqual(nested);
      if (run === "no-control") {
        expect(nested.control).toBeNull();
        for (const [key, path] of Object.entries(FLAT_TO_NESTED))
          if (!path.startsWith("control.")) expect(at(nested, path), key).toEqual(flat[key]);
          else expect(flat[key], key).toBeNull();
      } else {
        for (const [key, path] of Object.entries(FLAT_TO_NESTED))
          expect(at(nested, path), key).toEqual(flat[key]);
      }
    });

  it("reads the first flat summaries, the figures they lack at the defaults they had", () => {
    expect(parseSummary(JSON.stringify(FIRST_FLAT_SUMMARY), "runs/old/summary.json")).toEqual({
      sft: {
        accuracy: 0.525,
        sampledAccuracy: null,
        perFamily: { counting: 0.525 },
        perLevel: {},
        seconds: 60,
      },
      offline: { difficulty: "level", seconds: null },
      rl: {
        sampler: "rlcs",
        accuracy: 0.863,
        sampledAccuracy: null,
        perFamily: { counting: 0.863 },
        perLevel: {},
        steps: 30,
        seconds: 300,
        signalShare: 0.9,
        sampledSignalRate: 0.7,
        tokensPerSec: 1500,
        balance: 1.01,
        fill: 0.93,
        rolloutsTotal: 4000,
      },
      control: {
        accuracy: 0.6,
        sampledAccuracy: null,
        perFamily: { counting: 0.6 },
        perLevel: {},
        steps: 900,
      },
      heldoutItems: 512,
      wallSeconds: 700,
      warnings: [],
    });
  });

  it("finds a finished flat run (a --resume leaves it alone) and types its figures", () => {
    const dir = mkdtempSync(join(tmpdir(), "glmv-summary-"));
    cpSync(join(FLAT_RUNS, "with-control"), dir, { recursive: true });
    expect(finishedSummary(dir)).toBeUndefined(); // no report.html yet: not finished
    writeFileSync(join(dir, "report.html"), "<html></html>");
    const flat = JSON.parse(flatText("with-control"));
    expect(finishedSummary(dir)?.rl.accuracy).toBe(flat.rlAccuracy);
    expect(finishedSummary(dir)?.control?.steps).toBe(flat.continuedSftSteps);
  });

  it("is a checkpoint_corrupt error naming the file and the figure when it is not a summary", () => {
    const path = "runs/bad/summary.json";
    expect(() => parseSummary("{", path)).toThrow(
      expect.objectContaining({ code: "checkpoint_corrupt", where: path }),
    );
    // a flat file is judged by the flat schema, by its own names
    const text = JSON.stringify({ ...FIRST_FLAT_SUMMARY, rlAccuracy: "high" });
    expect(() => parseSummary(text, path)).toThrow(
      expect.objectContaining({
        code: "checkpoint_corrupt",
        message: expect.stringMatching(
          /^rlAccuracy must be a number, got "high" in runs\/bad\/summary\.json/,
        ),
      }),
    );
    const { rlSteps: _rlSteps, ...withoutSteps } = FIRST_FLAT_SUMMARY;
    expect(() => parseSummary(JSON.stringify(withoutSteps), path)).toThrow(/^rlSteps must be a number/);
    // a grouped one by the grouped schema
    const nested = parseSummary(JSON.stringify(FIRST_FLAT_SUMMARY), path);
    const bad = JSON.stringify({ ...nested, rl: { ...nested.rl, accuracy: "high" } });
    expect(() => parseSummary(bad, path)).toThrow(
      expect.objectContaining({
        code: "checkpoint_corrupt",
        message: expect.stringMatching(
          /^rl\.accuracy must be a number, got "high" in runs\/bad\/summary\.json/,
        ),
      }),
    );
    expect(() => parseSummary(JSON.stringify({ rl: {} }), path)).toThrow(/^sft must be a mapping of keys/);
  });
});
