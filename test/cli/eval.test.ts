/**
 * `glmv eval tasks|score|compare` through the real CLI (`node bin/glmv.js` in a child process) on real model outputs:
 * MathVista testmini results files of Bard and LLaVA-LLaMA-2-13B (test/benchmarks/mathvista-testmini-outputs/),
 * whose official overall scores are 348 and 261 of 1000 (official-verdicts.json, from the official scores files).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { TASK_NAMES } from "../../src/eval/registry.ts";
import { SPECIAL_TOKENS as T } from "../../src/model/special-tokens.ts";
import { type GlmvRun, runGlmv } from "../helpers/spawn-glmv.ts";

const OUTPUTS = new URL("../benchmarks/mathvista-testmini-outputs/", import.meta.url).pathname;
const official = JSON.parse(readFileSync(join(OUTPUTS, "official-verdicts.json"), "utf8")) as {
  verdicts: Record<string, Record<string, 0 | 1>>;
  scores: Record<string, { average: number }>;
};

const glmv = (args: readonly string[]) => runGlmv(args, { env: { ...process.env, GLMV_DEBUG: "" } });
const readJsonl = (path: string) =>
  readFileSync(path, "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** `glmv …` in this process (the same main() as bin/glmv.js), for the quick usage-mistake checks. */
async function glmvHere(args: string[]): Promise<GlmvRun> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = vi
    .spyOn(console, "error")
    .mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await main(args);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/** Exit 2 and one `glmv eval <command>: …` line (a usage text may follow a blank line) matching `names`. */
function expectOneClearLine(r: GlmvRun, command: string, names: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const [message = ""] = r.stderr.split(/\n\s*\n/);
  const lines = message.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^glmv eval ${command}: `));
  expect(lines[0]).toMatch(names);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "glmv-cli-eval-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("glmv eval tasks", () => {
  it("lists every registered task with its description", { timeout: 60_000 }, async () => {
    const r = await glmv(["eval", "tasks", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; description: string }[];
    expect(rows.map((row) => row.name)).toEqual(TASK_NAMES);
    expect(rows.find((row) => row.name === "mathvista")!.description).toMatch(/MathVista testmini/);
    const text = await glmv(["eval", "tasks"]);
    expect(text.stdout).toMatch(/^mathvista\s+MathVista testmini/m);
  });
});

describe("glmv eval score / compare on real MathVista outputs", () => {
  it("reproduces the official overall score and every item's verdict, and writes the three files", {
    timeout: 90_000,
  }, async () => {
    const out = join(dir, "bard");
    const r = await glmv([
      "eval",
      "score",
      "--task",
      "mathvista",
      "--responses",
      join(OUTPUTS, "bard.jsonl"),
      "--out",
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^mathvista: accuracy 34\.80%, 95% CI \d+\.\d%–\d+\.\d% \(n 1000, 100\.0% succeeded\)$/m,
    );
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results).toMatchObject({
      formatVersion: 1,
      model: null,
      settings: { task: "mathvista", extract: "auto" },
    });
    expect(results.tasks.mathvista).toMatchObject({
      headline: 34.8,
      unit: "%",
      accuracy: 0.348,
      n: 1000,
      successRate: 1,
      counts: true,
      needsJudge: 0,
    });
    expect(Math.round(results.tasks.mathvista.accuracy * 1000)).toBe(official.scores.bard!.average);
    const samples = readJsonl(join(out, "samples.jsonl"));
    expect(samples).toHaveLength(1000);
    const mine = Object.fromEntries(samples.map((s) => [s.id, s.correct ? 1 : 0]));
    expect(mine).toEqual(official.verdicts.bard);
    const report = readFileSync(join(out, "report.html"), "utf8");
    expect(report).toContain("<td>mathvista</td><td>34.80% (accuracy)</td>");
  });

  it("compares two runs: the headline delta, a paired interval and the items that flipped", {
    timeout: 90_000,
  }, async () => {
    const llava = join(dir, "llava");
    const scored = await glmv([
      "eval",
      "score",
      "--task",
      "mathvista",
      "--responses",
      join(OUTPUTS, "llava-llama-2-13b.jsonl"),
      "--out",
      llava,
    ]);
    expect(scored.stdout).toMatch(/^mathvista: accuracy 26\.10%/m);
    const r = await glmv(["eval", "compare", llava, join(dir, "bard"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout);
    const t = c.tasks[0];
    expect(t).toMatchObject({
      task: "mathvista",
      shared: 1000,
      a: { headline: 26.1 },
      b: { headline: 34.8 },
    });
    expect(t.headlineDelta).toBeCloseTo(8.7, 10);
    expect(t.itemDelta).toBeCloseTo(0.087, 10);
    expect(t.interval.low).toBeGreaterThan(0);
    expect(t.interval.high).toBeLessThan(0.2);
    // flips follow the official verdicts: right for Bard and wrong for LLaVA, and the reverse
    const [bard, llavaVerdicts] = [official.verdicts.bard!, official.verdicts["llava-llama-2-13b"]!];
    const better = Object.keys(bard).filter((pid) => bard[pid] === 1 && llavaVerdicts[pid] === 0);
    const worse = Object.keys(bard).filter((pid) => bard[pid] === 0 && llavaVerdicts[pid] === 1);
    expect([t.better.length, t.worse.length]).toEqual([193, 106]);
    expect(new Set(t.better)).toEqual(new Set(better));
    expect(new Set(t.worse)).toEqual(new Set(worse));
    const text = await glmv(["eval", "compare", llava, join(dir, "bard")]);
    expect(text.stdout).toMatch(
      /^mathvista\s+26\.10%\s+34\.80%\s+\+8\.70 pts\s+1000\s+\+0\.087 \[\+\d\.\d{3}, \+\d\.\d{3}\]\s+193\s+106$/m,
    );
  });

  it("reads GLM responses the GLM way (auto) and hands them over raw with --extract official", {
    timeout: 90_000,
  }, async () => {
    // three real items without the saved GPT extraction, answered GLM-style: a wrong guess in the thinking, the gold in the box
    const records = readJsonl(join(OUTPUTS, "bard.jsonl")).slice(0, 3);
    const lines = records.map(({ extraction: _dropped, ...r }) =>
      JSON.stringify({
        ...r,
        response: `${T.thinkStart}Maybe it is 99.${T.thinkEnd}${T.answerStart}So: ${T.beginBox}${r.answer}${T.endBox}${T.answerEnd}`,
      }),
    );
    lines.push(JSON.stringify({ ...records[0], extraction: undefined, pid: "fail-1", response: null }));
    const file = join(dir, "glm.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);

    const auto = await glmv([
      "eval",
      "score",
      "--task",
      "mathvista",
      "--responses",
      file,
      "--out",
      join(dir, "glm-auto"),
    ]);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stdout).toMatch(
      /^mathvista: accuracy 75(\.00)?%.*\(n 4, 75\.0% succeeded — below 95%: does not count/m,
    );
    const samples = readJsonl(join(dir, "glm-auto", "samples.jsonl"));
    expect(samples.map((s) => [s.id, s.correct, s.answer])).toEqual([
      ["1", true, records[0]!.answer],
      ["2", true, records[1]!.answer],
      ["3", true, records[2]!.answer],
      ["fail-1", false, ""],
    ]);
    expect(samples[0]!.thinking).toBe("Maybe it is 99.");
    expect(samples[3]).toMatchObject({ failed: true, response: null });

    const raw = await glmv([
      "eval",
      "score",
      "--task",
      "mathvista",
      "--responses",
      file,
      "--out",
      join(dir, "glm-official"),
      "--extract",
      "official",
    ]);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toMatch(/^mathvista: accuracy 0(\.00)?%.*3 need a judge/m);
  });
});

const MMMU = (model: string) => new URL(`../benchmarks/mmmu-val-${model}-outputs/`, import.meta.url).pathname;
const mmmuReference = (model: string) =>
  JSON.parse(readFileSync(join(MMMU(model), "reference-verdicts.json"), "utf8")) as {
    overall: { num: number; correct: number };
    verdicts: Record<string, 0 | 1>;
  };

describe("glmv eval score / compare on real MMMU val outputs (seeded random fallback in run order)", () => {
  it("reproduces the reference verdict of all 900 items for LLaVA-1.5-13B and Qwen-VL; compare pairs them by id", {
    timeout: 120_000,
  }, async () => {
    for (const [model, headline] of [
      ["llava1.5-13b", "36.67"],
      ["qwen-vl", "36.11"],
    ] as const) {
      const out = join(dir, `mmmu-${model}`);
      const r = await glmv([
        "eval",
        "score",
        "--task",
        "mmmu",
        "--responses",
        join(MMMU(model), "responses.jsonl"),
        "--out",
        out,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(`^mmmu: accuracy ${headline.replace(".", "\\.")}%.*\\(n 900, 100\\.0% succeeded\\)$`, "m"),
      );
      const reference = mmmuReference(model);
      const samples = readJsonl(join(out, "samples.jsonl"));
      expect(Object.fromEntries(samples.map((s) => [s.id, s.correct ? 1 : 0]))).toEqual(reference.verdicts);
      const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
      expect(results.tasks.mmmu.accuracy * 900).toBeCloseTo(reference.overall.correct, 9);
    }
    const c = await glmvHere([
      "eval",
      "compare",
      join(dir, "mmmu-llava1.5-13b"),
      join(dir, "mmmu-qwen-vl"),
      "--json",
    ]);
    expect(c.code, c.stderr).toBe(0);
    const t = JSON.parse(c.stdout).tasks[0];
    expect(t).toMatchObject({ task: "mmmu", shared: 900 });
    expect(t.itemDelta).toBeCloseTo((325 - 330) / 900, 12);
    expect([t.better.length, t.worse.length]).toEqual([160, 165]);
    expect(t.interval.low).toBeLessThan(0);
    expect(t.interval.high).toBeGreaterThan(0);
  });
});

describe("glmv eval: mistakes are one clear line and exit 2 (main() in process)", () => {
  const bard = () => join(OUTPUTS, "bard.jsonl");

  it("an unknown task names the known ones", async () => {
    const r = await glmvHere([
      "eval",
      "score",
      "--task",
      "mathvistaa",
      "--responses",
      bard(),
      "--out",
      join(dir, "x"),
    ]);
    expectOneClearLine(r, "score", /unknown task 'mathvistaa' \(known: mathvista, mmmu/);
  });

  it("a missing responses file names the file", async () => {
    const missing = join(dir, "no-such.jsonl");
    const r = await glmvHere([
      "eval",
      "score",
      "--task",
      "mathvista",
      "--responses",
      missing,
      "--out",
      join(dir, "x"),
    ]);
    expectOneClearLine(r, "score", new RegExp(`${missing}: no such file`));
  });

  it("a broken responses line names file:line", async () => {
    const file = join(dir, "broken.jsonl");
    const good = readFileSync(bard(), "utf8").split("\n").slice(0, 2).join("\n");
    writeFileSync(file, `${good}\n\n{"pid": "9", "response": "x"`);
    const r = await glmvHere([
      "eval",
      "score",
      "--task",
      "mathvista",
      "--responses",
      file,
      "--out",
      join(dir, "x"),
    ]);
    expectOneClearLine(r, "score", new RegExp(`not valid JSON.*${file}:4`));
  });

  it("a line the task cannot read names file:line and the field", async () => {
    const file = join(dir, "fieldless.jsonl");
    writeFileSync(file, `${JSON.stringify({ pid: "9", response: "x" })}\n`);
    const r = await glmvHere([
      "eval",
      "score",
      "--task",
      "mathvista",
      "--responses",
      file,
      "--out",
      join(dir, "x"),
    ]);
    expectOneClearLine(r, "score", new RegExp(`question_type.*${file}:1`));
  });

  it("a bad --extract and missing options are named", async () => {
    const args = ["eval", "score", "--task", "mathvista", "--responses", bard(), "--out", join(dir, "x")];
    expectOneClearLine(
      await glmvHere([...args, "--extract", "box"]),
      "score",
      /--extract must be one of auto, glm, official/,
    );
    expectOneClearLine(
      await glmvHere(["eval", "score", "--task", "mathvista"]),
      "score",
      /--responses, --out required/,
    );
  });

  it("--out holding the responses file would overwrite it", async () => {
    const out = mkdtempSync(join(dir, "rescore-"));
    writeFileSync(
      join(out, "samples.jsonl"),
      readFileSync(bard(), "utf8").split("\n").slice(0, 2).join("\n"),
    );
    const r = await glmvHere([
      "eval",
      "score",
      "--task",
      "mathvista",
      "--responses",
      join(out, "samples.jsonl"),
      "--out",
      out,
    ]);
    expectOneClearLine(r, "score", /--out .* holds --responses .*overwrite/);
  });

  it("compare needs two output folders, and names a folder that is not one", {
    timeout: 60_000,
  }, async () => {
    expectOneClearLine(
      await glmvHere(["eval", "compare", dir]),
      "compare",
      /expected two output folders, got 1/,
    );
    const r = await glmvHere(["eval", "compare", join(dir, "bard"), join(dir, "nothing")]);
    expectOneClearLine(r, "compare", new RegExp(`no results.json.*${join(dir, "nothing", "results.json")}`));
  });
});
