import { describe, expect, it } from "vitest";
import { letterTask as fixtureTask, glmResponse, letterItem } from "./eval-outputs.fixture.ts";
import { type RunRow, scoreTaskRun } from "./score-run.ts";
import type { EvalTask, ScoringInput } from "./types.ts";

/** The fixture's letter task, recording what each scoreAll call received. */
function letterTask(seen: ScoringInput[][] = []): EvalTask {
  const task = fixtureTask();
  const scoreAll = task.scoreAll;
  task.scoreAll = (inputs) => {
    seen.push(inputs);
    return scoreAll(inputs);
  };
  return task;
}

const item = letterItem;
const glm = glmResponse;

describe("scoreTaskRun", () => {
  it("scores the first box of a GLM response and keeps thinking out of what scoreAll sees", () => {
    const seen: ScoringInput[][] = [];
    const rows: RunRow[] = [
      { item: item("q1", "B"), response: glm("A looks wrong", "B") },
      { item: item("q2", "C"), response: "C" },
    ];
    const { run, samples } = scoreTaskRun(letterTask(seen), rows, { extract: "auto" });
    expect(seen[0]!.map((s) => s.answer)).toEqual(["B", "C"]);
    expect(seen[0]![0]!.response).toBe(rows[0]!.response);
    expect(samples[0]).toEqual({
      task: "letters",
      id: "q1",
      score: 1,
      correct: true,
      extracted: "B",
      answer: "B",
      thinking: "A looks wrong",
      response: rows[0]!.response,
      gold: "B",
    });
    expect(run.summary.headline).toBe(100);
    expect(run.extract).toBe("auto");
  });

  it("--extract official hands the raw response to the parser (thinking and all)", () => {
    const rows: RunRow[] = [{ item: item("q1", "B"), response: glm("A looks wrong", "B") }];
    const { samples } = scoreTaskRun(letterTask(), rows, { extract: "official" });
    expect(samples[0]).toMatchObject({ extracted: "<", score: 0, correct: false });
  });

  it("a failed request scores 0, never reaches scoreAll, and counts against the 95% rule", () => {
    const seen: ScoringInput[][] = [];
    const rows: RunRow[] = Array.from({ length: 20 }, (_, i) => ({
      item: item(`q${i}`, "A"),
      response: i === 7 ? null : "A",
    }));
    const { run, samples } = scoreTaskRun(letterTask(seen), rows, { extract: "auto" });
    expect(seen[0]!.map((s) => s.item.id)).toEqual(rows.filter((_, i) => i !== 7).map((r) => r.item.id));
    expect(samples[7]).toMatchObject({ id: "q7", score: 0, correct: false, failed: true, response: null });
    expect(samples[8]).toMatchObject({ id: "q8", score: 1 });
    expect(run).toMatchObject({ n: 20, succeeded: 19, successRate: 0.95, counts: true });
    expect(run.summary.accuracy).toBe(0.95);

    rows[9]!.response = null; // 18 of 20: below the paper's 95%
    expect(scoreTaskRun(letterTask(), rows, { extract: "auto" }).run).toMatchObject({
      succeeded: 18,
      successRate: 0.9,
      counts: false,
    });
  });

  it("counts the items that needed a judge and flags them", () => {
    const rows: RunRow[] = [
      { item: item("q1", "A"), response: "?" },
      { item: item("q2", "A"), response: "A" },
    ];
    const { run, samples } = scoreTaskRun(letterTask(), rows, { extract: "auto" });
    expect(run.needsJudge).toBe(1);
    expect(samples[0]!.needsJudge).toBe(true);
    expect(samples[1]!.needsJudge).toBeUndefined();
  });

  it("has no `correct` where the headline is not an accuracy (graded scores)", () => {
    const task = letterTask();
    task.summarize = (items, verdicts) => ({
      headline: verdicts.reduce((s, v) => s + v.score, 0) / items.length,
      metric: "ANLS",
      unit: "",
      breakdowns: {},
    });
    const { samples } = scoreTaskRun(task, [{ item: item("q1", "A"), response: "A" }], { extract: "auto" });
    expect(samples[0]!).not.toHaveProperty("correct");
  });

  it("gives a seeded bootstrap interval of the mean item score (failed items as 0)", () => {
    const rows: RunRow[] = Array.from({ length: 40 }, (_, i) => ({
      item: item(`q${i}`, "A"),
      response: i % 4 === 0 ? null : i % 2 === 0 ? "A" : "B",
    }));
    const a = scoreTaskRun(letterTask(), rows, { extract: "auto", seed: 9 }).run;
    const b = scoreTaskRun(letterTask(), rows, { extract: "auto", seed: 9 }).run;
    expect(a.interval).toEqual(b.interval);
    expect(a.interval!.seed).toBe(9);
    expect(a.interval!.low).toBeLessThan(0.25);
    expect(a.interval!.high).toBeGreaterThan(0.25);
  });

  it("refuses a task whose scoreAll drops verdicts", () => {
    const task = letterTask();
    task.scoreAll = () => [];
    expect(() => scoreTaskRun(task, [{ item: item("q1", "A"), response: "A" }], { extract: "auto" })).toThrow(
      /0 verdicts for 1 answers/,
    );
  });
});
