import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareRuns, formatComparison, loadRun } from "./compare.ts";
import { letterRun, META } from "./eval-outputs.fixture.ts";
import { writeEvalOutputs } from "./results.ts";

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "glmv-eval-compare-"));
  await writeEvalOutputs(join(root, "a"), META, [
    letterRun([
      ["q1", "A", "A"],
      ["q2", "B", "C"],
      ["q3", "C", "C"],
      ["q4", "D", null],
    ]),
    letterRun([["x1", "A", "A"]], "only-a"),
  ]);
  await writeEvalOutputs(join(root, "b"), { ...META, model: "openai:http://127.0.0.1:1/v1#tuned" }, [
    letterRun([
      ["q1", "A", "B"],
      ["q2", "B", "B"],
      ["q3", "C", "C"],
      ["q4", "D", "D"],
      ["q5", "A", "A"],
    ]),
    letterRun([["y1", "A", "A"]], "only-b"),
  ]);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("compareRuns", () => {
  it("gives per-task deltas, a paired interval over the shared ids and the items that flipped", async () => {
    const c = compareRuns(await loadRun(join(root, "a")), await loadRun(join(root, "b")), { seed: 1 });
    expect(c.onlyA).toEqual(["only-a"]);
    expect(c.onlyB).toEqual(["only-b"]);
    expect(c.tasks).toHaveLength(1);
    const t = c.tasks[0]!;
    expect(t).toMatchObject({
      task: "letters",
      unit: "%",
      a: { headline: 50, accuracy: 0.5, n: 4, counts: false },
      b: { headline: 80, accuracy: 0.8, n: 5, counts: true },
      headlineDelta: 30,
      shared: 4,
      itemDelta: 0.25, // (−1 + 1 + 0 + 1) / 4 over q1..q4; q5 is only in B
      better: ["q2", "q4"],
      worse: ["q1"],
    });
    expect(t.interval!.low).toBeLessThan(0.25);
    expect(t.interval!.high).toBeGreaterThan(0.25);
    expect(t.interval!.low).toBeGreaterThanOrEqual(-1);
    expect(t.interval!.high).toBeLessThanOrEqual(1);
  });

  it("prints an aligned table, marks runs that do not count, and lists the flipped ids", async () => {
    const text = formatComparison(
      compareRuns(await loadRun(join(root, "a")), await loadRun(join(root, "b"))),
    );
    const lines = text.split("\n");
    expect(lines[0]).toBe(`A: ${join(root, "a")} (${META.model})`);
    expect(lines[3]).toMatch(
      /^task\s+A\s+B\s+Δ headline\s+shared\s+Δ mean item score \[95% CI\]\s+better\s+worse$/,
    );
    expect(lines[4]).toMatch(
      /^letters\s+50%\*\s+80%\s+\+30\.00 pts\s+4\s+\+0\.250 \[[−+]\d\.\d{3}, \+\d\.\d{3}\]\s+2\s+1$/,
    );
    expect(text).toContain("* fewer than 95% of the requests succeeded");
    expect(text).toContain("letters better in B: q2, q4");
    expect(text).toContain("letters worse in B: q1");
    expect(text).toContain("only in A: only-a");
  });

  it("refuses a samples.jsonl holding one item twice, naming the file", async () => {
    const dir = join(root, "dup");
    await writeEvalOutputs(dir, META, [letterRun([["q1", "A", "A"]])]);
    const file = join(dir, "samples.jsonl");
    appendFileSync(file, readFileSync(file, "utf8"));
    const run = await loadRun(dir);
    expect(() => compareRuns(run, run)).toThrow(/item 'q1' of task 'letters' appears twice/);
  });
});
