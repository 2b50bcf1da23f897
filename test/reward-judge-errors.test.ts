/**
 * `glmv reward score --judge-config` against a judge that cannot be reached (a real closed port): the item the judge
 * was asked about must come out marked as a judge error, never as "the judge said no".
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GLMV_BIN } from "./helpers/spawn-glmv.ts";

const r41 = (a: string) => `<think>look</think><answer><|begin_of_box|>${a}<|end_of_box|></answer>`;

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function runGlmv(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [GLMV_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => {
    stdout += c;
  });
  child.stderr.on("data", (c) => {
    stderr += c;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

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
