import { describe, expect, it } from "vitest";
import { formatSummary, parseItemLine, summarize } from "./reward-score.ts";

describe("parseItemLine / summarize", () => {
  it("names the offending field", () => {
    const r = parseItemLine(JSON.stringify({ id: 1, domain: "math", response: "r", answer: 5 }), 7);
    expect(r.ok).toBe(false);
    expect(!r.ok && (r.out as { error: string }).error).toMatch(/line 7: field 'answer'/);
    const o = parseItemLine(
      JSON.stringify({ id: 1, domain: "choice", response: "r", answer: "A", options: [1] }),
      1,
    );
    expect(!o.ok && (o.out as { error: string }).error).toMatch(/field 'options/);
  });

  it("summarises per domain with a total row", () => {
    const ok = {
      reward: 1,
      correct: true,
      format: "ok" as const,
      extracted: "1",
      timedOut: false,
      stage: "verify" as const,
    };
    const t = {
      ...ok,
      reward: 0,
      correct: false,
      extracted: null,
      timedOut: true,
      stage: "timeout" as const,
    };
    const item = (domain: "math" | "ocr") => ({ id: 1, domain, response: "", answer: "" });
    const judgeFailed = { ...ok, stage: "judge_error" as const, judgeError: "connection refused" };
    const rows = summarize(
      [item("ocr"), item("math"), item("math"), item("ocr")],
      [ok, t, { ...ok, reward: 0.5, correct: false }, judgeFailed],
    );
    expect(rows.map((r) => r.domain)).toEqual(["math", "ocr", "total"]);
    expect(rows[0]).toMatchObject({ count: 2, meanReward: 0.25, accuracy: 0, timeouts: 1, judgeErrors: 0 });
    expect(rows[1]).toMatchObject({ count: 2, judgeErrors: 1 });
    expect(rows[2]).toMatchObject({ count: 4, judgeErrors: 1 });
    const table = formatSummary(rows).split("\n");
    expect(table).toHaveLength(4);
    expect(table[0]).toMatch(/judge errors$/);
    expect(table[3]).toMatch(/^total .* 1$/);
  });

  it("counts verifier errors apart from wrong answers, format failures and timeouts", () => {
    const base = { correct: false, format: "ok" as const, extracted: "1", timedOut: false };
    const wrong = { ...base, reward: 0, stage: "verify" as const, reason: "count 1 does not match 2" };
    const thrown = { ...base, reward: 0, stage: "verifier_error" as const, reason: "verifier error: boom" };
    const item = (domain: "counting" | "text") => ({ id: 1, domain, response: "", answer: "" });
    const rows = summarize(
      [item("counting"), item("counting"), item("text")],
      [wrong, thrown, { ...thrown, reason: "verifier error: bang" }],
    );
    expect(rows.map((r) => [r.domain, r.verifierErrors, r.formatFails, r.timeouts])).toEqual([
      ["counting", 1, 0, 0],
      ["text", 1, 0, 0],
      ["total", 2, 0, 0],
    ]);
    const table = formatSummary(rows).split("\n");
    expect(table[0]).toMatch(/format fails +verifier errors +judge errors$/);
    expect(table[3]).toMatch(/^total +3 +0\.000 +0\.0% +0 +0 +2 +0$/);
  });
});
