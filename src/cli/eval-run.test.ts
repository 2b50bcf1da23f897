import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runGlmv } from "../../test/helpers/spawn-glmv.ts";
import { completion, type FakeServer, startFakeOpenAI } from "../eval/fake-openai.fixture.ts";
import { parseDataArg, parseEvalRunArgs } from "./eval-run.ts";

const AI2D = resolve(import.meta.dirname, "../../test/benchmarks/mmmu-pro/data.jsonl");
const BOXED_B = "<think>The diagram shows it.</think><answer><|begin_of_box|>B<|end_of_box|></answer>";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("glmv eval run (a real server, the CLI in a child process)", () => {
  it("asks every item, writes the outputs, and a rerun is answered from the cache", async () => {
    server = await startFakeOpenAI(() => ({ json: completion(BOXED_B) }));
    const out = join(mkdtempSync(join(tmpdir(), "glmv-eval-run-")), "run");
    const args = ["eval", "run", "--model", `openai:${server.url}#glm`, "--tasks", "ai2d"];
    const rest = ["--data", `ai2d=${AI2D}`, "--out", out, "--limit", "3", "--concurrency", "2"];
    const first = await runGlmv([...args, ...rest]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^ai2d: accuracy \d+\.\d\d%, n 3, ok 100\.0%, cached 0, failed 0/m);
    expect(server.bodies).toHaveLength(3);
    const body = server.bodies[0]!;
    expect(body).toMatchObject({
      model: "glm",
      max_tokens: 8192,
      chat_template_kwargs: { enable_thinking: true },
    });
    const parts = (body.messages as { content: { type: string; image_url?: { url: string } }[] }[])[0]!
      .content;
    expect(parts[0]!.image_url!.url).toMatch(/^data:image\/png;base64,iVBOR/);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results.model).toBe(`openai:${server.url}#glm`);
    expect(results.tasks.ai2d).toMatchObject({ n: 3, succeeded: 3, counts: true, unit: "%" });
    const samples = readFileSync(join(out, "samples.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(samples.map((s) => s.extracted)).toEqual(["B", "B", "B"]);

    const again = await runGlmv([...args, ...rest]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/cached 3, failed 0/);
    expect(server.bodies).toHaveLength(3);
    expect(JSON.parse(readFileSync(join(out, "results.json"), "utf8")).tasks.ai2d.headline).toBe(
      results.tasks.ai2d.headline,
    );
  });

  it("--thinking off sends the switch off, and /nothink in the 4.5v style", async () => {
    server = await startFakeOpenAI(() => ({ json: completion("<|begin_of_box|>A<|end_of_box|>") }));
    const out = mkdtempSync(join(tmpdir(), "glmv-eval-run-"));
    const run = await runGlmv([
      ...["eval", "run", "--model", `openai:${server.url}#glm`, "--tasks", "ai2d", "--data", `ai2d=${AI2D}`],
      ...["--out", out, "--limit", "1", "--thinking", "off", "--style", "4.5v"],
    ]);
    expect(run.code).toBe(0);
    const body = server.bodies[0]!;
    expect(body.chat_template_kwargs).toEqual({ enable_thinking: false });
    const parts = (body.messages as { content: { type: string; text?: string }[] }[])[0]!.content;
    expect(parts.at(-1)!.text).toMatch(/\/nothink$/);
  });

  it("a task whose requests mostly failed is written but exits 1", async () => {
    server = await startFakeOpenAI(() => ({ status: 400, json: { error: "rejected" } }));
    const out = mkdtempSync(join(tmpdir(), "glmv-eval-run-"));
    const run = await runGlmv([
      ...["eval", "run", "--model", `openai:${server.url}#glm`, "--tasks", "ai2d", "--data", `ai2d=${AI2D}`],
      ...["--out", out, "--limit", "2"],
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/fewer than 95% of the requests succeeded for ai2d/);
    expect(JSON.parse(readFileSync(join(out, "results.json"), "utf8")).tasks.ai2d.counts).toBe(false);
  });

  it("usage mistakes exit 2 with one message before anything is asked", async () => {
    const run = await runGlmv([
      "eval",
      "run",
      "--model",
      "vllm:x",
      "--tasks",
      "ai2d",
      "--data",
      "ai2d=x",
      "--out",
      "o",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^glmv eval run: 'vllm:x' is not a model spec/);
  });
});

describe("parseEvalRunArgs", () => {
  const base = ["--model", "openai:http://h:8000/v1#glm", "--tasks", "mmmu,ai2d", "--out", "o"];

  it("reads defaults: thinking on, 8192 tokens, concurrency 16, extract auto, the key from $OPENAI_API_KEY", () => {
    const a = parseEvalRunArgs([...base, "--data", "mmmu=a.parquet,ai2d=b.jsonl"], {
      OPENAI_API_KEY: "sk-env",
    })!;
    expect(a).toMatchObject({
      tasks: [
        { task: "mmmu", data: "a.parquet" },
        { task: "ai2d", data: "b.jsonl" },
      ],
      thinking: true,
      maxTokens: 8192,
      concurrency: 16,
      extract: "auto",
      client: { style: "4.1v", apiKey: "sk-env", serverExtras: true },
    });
    expect(a.retry).toMatchObject({ maxRetries: 4, timeoutMs: 900_000 });
  });

  it("refuses a --data entry for a task not asked, a task without data, an unknown task and a bad --judge", () => {
    expect(() => parseDataArg("mmmu=a", ["mmmu", "ai2d"])).toThrow(/no path for ai2d/);
    expect(() => parseDataArg("mmmu=a,ocrbench=b", ["mmmu"])).toThrow(/'ocrbench', which is not in --tasks/);
    expect(() =>
      parseEvalRunArgs(["--model", "local:x", "--tasks", "nope", "--data", "nope=a", "--out", "o"], {}),
    ).toThrow(/unknown task 'nope'/);
    expect(() => parseEvalRunArgs([...base, "--data", "mmmu=a,ai2d=b", "--judge", "local:x"], {})).toThrow(
      /--judge must be an openai/,
    );
  });
});
