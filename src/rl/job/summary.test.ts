import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { finishedSummary } from "./main-job-checks.ts";
import { metricsAt } from "./report.fixture.ts";
import { parseSummary, Summary, summarizeRun } from "./summary.ts";

const close = (x: number) => expect.closeTo(x, 12);

/** A summary.json as the first main-job runs wrote it: before sampled accuracy, levels, offline difficulty, warnings. */
const OLD_FLAT_SUMMARY = {
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

  it("averages the per-step figures over the steps it is given, and takes the rollout count of the last", () => {
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
    expect(summary).toMatchObject({
      sftAccuracy: 0.5,
      rlAccuracy: 0.75,
      continuedSftAccuracy: 0.55,
      sftSampledAccuracy: 0.2,
      rlSampledAccuracy: null,
      sftPerLevel: { "1": 0.6 },
      rlPerLevel: {},
      continuedSftPerLevel: {},
      rlSteps: 2,
      rlSeconds: 12,
      continuedSftSteps: 40,
      sftSeconds: 4,
      heldoutItems: 64,
      rolloutsTotal: 320,
      offlineDifficulty: "sft-likelihood",
      offlineScoringSeconds: 9,
      warnings: ["w"],
    });
    expect(summary.signalShare).toEqual(close(0.75));
    expect(summary.fill).toEqual(close(0.8));
    expect(summary.tokensPerSec).toEqual(close(2000));
    expect(summary.sampledSignalRate).toEqual(close(0.8));
    expect(summary.balance).toEqual(close(1.01));
    // every figure it writes is one the schema knows, and reads back unchanged
    expect(Summary.strict().parse(summary)).toEqual(summary);
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
    expect(summary).toMatchObject({
      continuedSftAccuracy: null,
      continuedSftPerFamily: null,
      continuedSftPerLevel: null,
      continuedSftSteps: null,
      offlineDifficulty: "level",
      offlineScoringSeconds: null,
      rlSteps: 0,
      rolloutsTotal: 0,
      signalShare: 0,
    });
  });
});

describe("summary.json read back", () => {
  it("reads an older flat summary.json, the figures it lacks at their defaults", () => {
    const summary = parseSummary(JSON.stringify(OLD_FLAT_SUMMARY), "runs/old/summary.json");
    expect(summary).toEqual({
      ...OLD_FLAT_SUMMARY,
      sftSampledAccuracy: null,
      rlSampledAccuracy: null,
      continuedSftSampledAccuracy: null,
      sftPerLevel: {},
      rlPerLevel: {},
      continuedSftPerLevel: null,
      offlineDifficulty: "level",
      offlineScoringSeconds: null,
      warnings: [],
    });
  });

  it("finds a finished old run (a --resume leaves it alone) and types its figures", () => {
    const dir = mkdtempSync(join(tmpdir(), "glmv-summary-"));
    writeFileSync(join(dir, "summary.json"), JSON.stringify(OLD_FLAT_SUMMARY));
    expect(finishedSummary(dir)).toBeUndefined(); // no report.html yet: not finished
    writeFileSync(join(dir, "report.html"), "<html></html>");
    expect(finishedSummary(dir)?.rlAccuracy).toBe(0.863);
    expect(finishedSummary(dir)?.warnings).toEqual([]);
  });

  it("is a checkpoint_corrupt error naming the file and the figure when it is not a summary", () => {
    const path = "runs/bad/summary.json";
    expect(() => parseSummary("{", path)).toThrow(
      expect.objectContaining({ code: "checkpoint_corrupt", where: path }),
    );
    const text = JSON.stringify({ ...OLD_FLAT_SUMMARY, rlAccuracy: "high" });
    expect(() => parseSummary(text, path)).toThrow(
      expect.objectContaining({
        code: "checkpoint_corrupt",
        message: expect.stringMatching(
          /^rlAccuracy must be a number, got "high" in runs\/bad\/summary\.json/,
        ),
      }),
    );
    const { rlSteps: _rlSteps, ...withoutSteps } = OLD_FLAT_SUMMARY;
    expect(() => parseSummary(JSON.stringify(withoutSteps), path)).toThrow(/^rlSteps must be a number/);
  });
});
