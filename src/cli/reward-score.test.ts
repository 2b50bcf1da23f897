import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { formatSummary, parseItemLine, rewardScoreCommand, summarize } from "./reward-score.ts";

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

describe("glmv reward score --no-thinking", () => {
  it("scores a GLM-4.5V thinking-off completion (no think block) 1 with the flag and 0 (missing_think) without", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glmv-no-thinking-"));
    const input = join(dir, "in.jsonl");
    const box = (a: string) => `<|begin_of_box|>${a}<|end_of_box|>`;
    const lines = [
      { id: "off", domain: "counting", answer: "3", response: `There are ${box("3")} apples.` },
      { id: "own", domain: "counting", answer: "3", response: `<think>1, 2, 3</think>${box("3")}` },
    ];
    writeFileSync(input, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const score = async (flags: string[]) => {
      const out = join(dir, `out${flags.length}.jsonl`);
      const args = ["--in", input, "--out", out, "--style", "4.5v", "--workers", "1", ...flags];
      expect(await rewardScoreCommand.run(args)).toBe(0);
      return readFileSync(out, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    };
    try {
      const [off, own] = await score(["--no-thinking"]);
      expect(off).toMatchObject({ id: "off", reward: 1, format: "ok", extracted: "3" });
      const [offDefault, ownDefault] = await score([]);
      expect(offDefault).toMatchObject({ id: "off", reward: 0, format: "missing_think" });
      // A completion with its own think block scores the same either way.
      expect(own).toEqual(ownDefault);
      expect(own).toMatchObject({ reward: 1 });
    } finally {
      vi.restoreAllMocks();
    }
  });
});
