import { mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ResponseCache } from "./cache.ts";
import { completion, type FakeServer, startFakeOpenAI, userTextOf } from "./fake-openai.fixture.ts";
import { createJudge, extractionPrompt } from "./judge.ts";
import { OpenAIModelClient } from "./models/openai.ts";
import { parseJsonl } from "./records.ts";
import { RetryPolicy } from "./retry.ts";
import { type RunEvalOptions, runEval } from "./runner.ts";
import type { EvalItem, EvalTask } from "./types.ts";

/** A letter-answer task whose rule needs a judge when the answer is not a bare letter (MathVista-like). */
const toy: EvalTask = {
  name: "toy",
  description: "letters",
  answerScope: "box",
  async load(path) {
    return parseJsonl(await readFile(path, "utf8"), path).map(
      (r): EvalItem => ({
        id: String(r.id),
        prompt: String(r.q),
        images: [],
        gold: r.gold,
        fields: { question: r.q },
      }),
    );
  },
  fromRecord() {
    throw new Error("unused");
  },
  scoreAll(inputs) {
    return inputs.map(({ item, answer }) => {
      const given = item.fields.extraction;
      const x = typeof given === "string" ? given : /^[A-D]$/.test(answer) ? answer : null;
      if (x === null) return { score: 0, extracted: null, needsJudge: true };
      return { score: x === item.gold ? 1 : 0, extracted: x };
    });
  },
  summarize(_items, verdicts) {
    const accuracy = verdicts.reduce((s, v) => s + v.score, 0) / verdicts.length;
    return { headline: 100 * accuracy, metric: "accuracy", unit: "%", accuracy, breakdowns: {} };
  },
};

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function writeItems(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), "glmv-runner-"));
  const file = join(dir, "toy.jsonl");
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `t${i}`, q: `Q${i}?`, gold: "B" }));
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

const retry = RetryPolicy.parse({ maxRetries: 1, backoffMs: 1, maxBackoffMs: 2, timeoutMs: 5000 });

async function setup(answers: Record<string, string>) {
  const model = await startFakeOpenAI((body) => ({ json: completion(answers[userTextOf(body)] ?? "B") }));
  const judgeServer = await startFakeOpenAI(() => ({ json: completion("B") }));
  servers.push(model, judgeServer);
  const client = new OpenAIModelClient({ baseUrl: model.url, model: "m" });
  const judgeClient = new OpenAIModelClient({ baseUrl: judgeServer.url, model: "j", serverExtras: false });
  return { model, judgeServer, client, judgeClient };
}

const base = (over: Partial<RunEvalOptions> & Pick<RunEvalOptions, "client" | "tasks">): RunEvalOptions => ({
  thinking: true,
  maxTokens: 64,
  temperature: 0,
  seed: 0,
  concurrency: 4,
  retry,
  extract: "auto",
  resolveTask: async () => toy,
  ...over,
});

describe("runEval", () => {
  it("asks the first --limit items in file order and scores them with the task's rule", async () => {
    const { model, client } = await setup({ "Q1?": "<answer><|begin_of_box|>C<|end_of_box|></answer>" });
    const [outcome] = await runEval(
      base({ client, tasks: [{ task: "toy", data: writeItems(10) }], limit: 3 }),
    );
    expect(model.bodies.map(userTextOf).sort()).toEqual(["Q0?", "Q1?", "Q2?"]);
    expect(outcome!.samples.map((s) => [s.id, s.score, s.extracted])).toEqual([
      ["t0", 1, "B"],
      ["t1", 0, "C"],
      ["t2", 1, "B"],
    ]);
    expect(outcome!.run).toMatchObject({ task: "toy", n: 3, succeeded: 3, counts: true, needsJudge: 0 });
  });

  it("without a judge, reports the items that needed one; with one, they are re-extracted, rescored and cached", async () => {
    const answers = { "Q0?": "I think the second option, B, fits best.", "Q2?": "The answer is option C." };
    const { judgeServer, client, judgeClient } = await setup(answers);
    const tasks = [{ task: "toy", data: writeItems(3) }];
    const [plain] = await runEval(base({ client, tasks }));
    expect(plain!.run.needsJudge).toBe(2);
    expect(plain!.judged).toBe(0);

    const cache = ResponseCache.open(":memory:");
    const judge = createJudge(judgeClient, { retry, cache });
    const [judged] = await runEval(base({ client, tasks, judge, cache }));
    expect(judgeServer.bodies).toHaveLength(2);
    expect(judgeServer.bodies.map(userTextOf).sort()).toEqual([
      extractionPrompt("Q0?", answers["Q0?"]),
      extractionPrompt("Q2?", answers["Q2?"]),
    ]);
    expect(judgeServer.bodies[0]).toMatchObject({ model: "j", temperature: 0, max_tokens: 256 });
    expect(judged!.judged).toBe(2);
    expect(judged!.run.needsJudge).toBe(0);
    expect(judged!.samples.map((s) => s.score)).toEqual([1, 1, 1]);

    await runEval(base({ client, tasks, judge, cache }));
    expect(judgeServer.bodies).toHaveLength(2); // the judge's answers came from the cache
    cache.close();
  });

  it("a failed request scores 0 and counts against the 95% rule", async () => {
    const model = await startFakeOpenAI((body) =>
      userTextOf(body) === "Q0?" ? { status: 422, json: {} } : { json: completion("B") },
    );
    servers.push(model);
    const client = new OpenAIModelClient({ baseUrl: model.url, model: "m" });
    const [outcome] = await runEval(base({ client, tasks: [{ task: "toy", data: writeItems(4) }] }));
    expect(outcome!.run).toMatchObject({ n: 4, succeeded: 3, successRate: 0.75, counts: false });
    expect(outcome!.errors).toEqual([{ id: "t0", error: expect.stringContaining("HTTP 422") }]);
    expect(outcome!.samples[0]).toMatchObject({ id: "t0", score: 0, failed: true, response: null });
  });

  it("an unreadable --data file fails the run before any request is sent", async () => {
    const { model, client } = await setup({});
    const tasks = [
      { task: "toy", data: writeItems(2) },
      { task: "toy", data: "/nonexistent/toy.jsonl" },
    ];
    await expect(runEval(base({ client, tasks }))).rejects.toMatchObject({ code: "ENOENT" });
    expect(model.bodies).toHaveLength(0);
  });
});
