/**
 * The instruction-data stages in a real `glmv data run` (child process, worker threads): SFT template checks, then
 * contamination against benchmark data read by the eval tasks' loaders (its index built into the run's state).
 */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runGlmv } from "../helpers/spawn-glmv.ts";
import { readJsonl, summaryStages, tempDir, writeJsonl, writePipelineYaml } from "./helpers/pipelines.ts";

const REPO = resolve(import.meta.dirname, "../..");
const BOX = (s: string) => `<|begin_of_box|>${s}<|end_of_box|>`;
const chat = (question: string, answer: string) => [
  { role: "user", content: question },
  { role: "assistant", content: answer },
];

describe("glmv data run with sft-format and contamination", () => {
  it("drops a malformed answer, a missing box and a benchmark question, and keeps the clean item", async () => {
    const dir = tempDir("glmv-instruct-run-");
    const good = `<think>Three plus four is seven.</think><answer>${BOX("7")}</answer>`;
    const records = [
      { id: "clean", messages: chat("What is 3 + 4?", good) },
      { id: "no-think", messages: chat("What is 3 + 4?", `<answer>${BOX("7")}</answer>`) },
      { id: "no-box", messages: chat("What is 3 + 4?", "<think>3+4</think><answer>7</answer>") },
      {
        id: "copied",
        messages: chat(
          "When a spring does work on an object, we cannot find the work by simply multiplying the spring force by the object's displacement. Why?",
          good,
        ),
      },
    ];
    writeJsonl(join(dir, "sft.jsonl"), records);
    const pipeline = writePipelineYaml(dir, {
      name: "instruct",
      input: { format: "jsonl", path: "sft.jsonl", shardSize: 2 },
      output: { format: "jsonl" },
      workers: 2,
      stages: [
        { use: "sft-format" },
        {
          use: "contamination",
          benchmarks: [{ task: "mathvista", data: join(REPO, "test/benchmarks/mathvista/testmini.json") }],
        },
      ],
    });
    const out = join(dir, "out");
    const run = await runGlmv(["data", "run", pipeline, "--out", out], { killAfterMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(summaryStages(out)).toEqual([
      ["input", 4, 4, {}],
      ["sft-format", 4, 2, { bad_format: 1, missing_box: 1 }],
      ["contamination", 2, 1, { contaminated_text: 1 }],
    ]);
    const kept = readdirSync(join(out, "output")).flatMap((f) =>
      f.endsWith(".jsonl") ? readJsonl(join(out, "output", f)) : [],
    );
    expect(kept.map((r) => r.id)).toEqual(["clean"]);
  });
});
