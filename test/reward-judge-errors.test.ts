import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { closedPort, runGlmv } from "./helpers/spawn-glmv.ts";

const r41 = (a: string) => `<think>look</think><answer><|begin_of_box|>${a}<|end_of_box|></answer>`;

describe("glmv reward score with an unreachable LLM judge", () => {
  const dir = mkdtempSync(join(tmpdir(), "glmv-judge-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("marks the judged item stage judge_error with the reason in its output line", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1/chat/completions`;
    writeFileSync(join(dir, "judge.json"), JSON.stringify({ judges: [{ url, model: "m" }], retries: 0 }));
    const items = [
      {
        id: "judged",
        domain: "text",
        response: r41("the colour of the sky"),
        answer: "blue",
        question: "Colour?",
      },
      { id: "rule", domain: "counting", response: r41("3"), answer: "3" },
    ];
    writeFileSync(join(dir, "in.jsonl"), `${items.map((i) => JSON.stringify(i)).join("\n")}\n`);
    const out = join(dir, "out.jsonl");
    const run = await runGlmv([
      "reward",
      "score",
      "--in",
      join(dir, "in.jsonl"),
      "--out",
      out,
      "--workers",
      "1",
      "--judge-config",
      join(dir, "judge.json"),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const lines = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      id: "judged",
      reward: 0,
      correct: false,
      stage: "judge_error",
      judgeError: expect.stringMatching(/ECONNREFUSED/),
    });
    expect(lines[1]).toMatchObject({ id: "rule", reward: 1, stage: "verify" });
    expect(lines[1].judgeError).toBeUndefined();
  });
});
