import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GlmvError } from "../util/errors.ts";
import { glmResponse, letterRun, META } from "./eval-outputs.fixture.ts";
import { ResultsSchema, readResults, readSamples, SampleLineSchema, writeEvalOutputs } from "./results.ts";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "glmv-eval-results-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sampleRun = () =>
  letterRun([
    ["validation_Art_1", "A", glmResponse("so A", "A")],
    ["validation_Art_2", "B", "C"],
    ["validation_Art_3", "C", null],
    ["validation_Art_4", "D", "?"],
  ]);

/** An error thrown by `fn`, for its code and `where`. */
async function errorOf(fn: () => Promise<unknown>): Promise<GlmvError> {
  const e = await fn().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GlmvError);
  return e as GlmvError;
}

describe("writeEvalOutputs", () => {
  it("writes results.json, samples.jsonl and report.html (folder created, no temp file left)", async () => {
    const dir = join(root, "a", "nested");
    const paths = await writeEvalOutputs(dir, META, [sampleRun()]);
    expect(readdirSync(dir).sort()).toEqual(["report.html", "results.json", "samples.jsonl"]);
    expect(paths.results).toBe(join(dir, "results.json"));

    const results = ResultsSchema.parse(JSON.parse(readFileSync(paths.results, "utf8")));
    expect(results).toMatchObject({ ...META, formatVersion: 1 });
    expect(results.tasks.letters).toMatchObject({
      task: "letters",
      headline: 25,
      metric: "accuracy",
      unit: "%",
      accuracy: 0.25,
      n: 4,
      succeeded: 3,
      successRate: 0.75,
      counts: false,
      needsJudge: 1,
      extract: "auto",
      breakdowns: { gold: { A: { n: 1, score: 1 }, B: { n: 1, score: 0 } } },
    });
    expect(results.tasks.letters!.interval).toMatchObject({ level: 0.95, resamples: 1000, seed: 0 });

    const lines = readFileSync(paths.samples, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => SampleLineSchema.parse(l).id)).toEqual([
      "validation_Art_1",
      "validation_Art_2",
      "validation_Art_3",
      "validation_Art_4",
    ]);
    expect(lines[0]).toMatchObject({ task: "letters", correct: true, extracted: "A", thinking: "so A" });
    expect(lines[2]).toMatchObject({ correct: false, failed: true, response: null });
    expect(lines[3]).toMatchObject({ needsJudge: true, score: 0 });
  });

  it("round-trips through the typed readers", async () => {
    const dir = join(root, "b");
    const run = sampleRun();
    await writeEvalOutputs(dir, META, [run]);
    expect((await readResults(dir)).tasks.letters!.accuracy).toBe(0.25);
    expect(await readSamples(dir)).toEqual(run.samples);
  });
});

describe("readResults / readSamples on bad folders", () => {
  it("a folder without results.json is not_found naming the path", async () => {
    const e = await errorOf(() => readResults(join(root, "nowhere")));
    expect(e.code).toBe("not_found");
    expect(e.where).toBe(join(root, "nowhere", "results.json"));
  });

  it("a samples.jsonl line that is not JSON names file:line", async () => {
    const dir = join(root, "c");
    await writeEvalOutputs(dir, META, [sampleRun()]);
    const file = join(dir, "samples.jsonl");
    const lines = readFileSync(file, "utf8").split("\n");
    lines[2] = "{not json";
    writeFileSync(file, lines.join("\n"));
    const e = await errorOf(() => readSamples(dir));
    expect([e.code, e.where]).toEqual(["bad_input", `${file}:3`]);
  });

  it("a samples.jsonl line with a wrong field names file:line and the field", async () => {
    const dir = join(root, "d");
    await writeEvalOutputs(dir, META, [sampleRun()]);
    const file = join(dir, "samples.jsonl");
    const lines = readFileSync(file, "utf8").split("\n");
    lines[1] = JSON.stringify({ ...JSON.parse(lines[1]!), score: "high" });
    writeFileSync(file, lines.join("\n"));
    const e = await errorOf(() => readSamples(dir));
    expect([e.code, e.where]).toEqual(["bad_input", `${file}:2`]);
    expect(e.message).toMatch(/score must be a number.*"high"/);
  });

  it("results.json with a wrong field names file:line of that field", async () => {
    const dir = join(root, "e");
    await writeEvalOutputs(dir, META, [sampleRun()]);
    const file = join(dir, "results.json");
    const text = readFileSync(file, "utf8").replace('"n": 4', '"n": -4');
    writeFileSync(file, text);
    const line = text.split("\n").findIndex((l) => l.includes('"n": -4')) + 1;
    const e = await errorOf(() => readResults(dir));
    expect([e.code, e.where]).toEqual(["bad_input", `${file}:${line}`]);
    expect(e.message).toMatch(/tasks\.letters\.n/);
  });

  it("results.json that is not JSON names file:line (where the parser says where)", async () => {
    const dir = join(root, "f");
    await writeEvalOutputs(dir, META, [sampleRun()]);
    const file = join(dir, "results.json");
    writeFileSync(file, '{\n  "formatVersion": 1\n  "model": null\n}\n'); // a comma missing on line 2
    const e = await errorOf(() => readResults(dir));
    expect([e.code, e.where]).toEqual(["bad_input", `${file}:3`]);
  });
});
