/**
 * `npm run bench:eval`: what the evaluation harness costs on top of the model.
 * - overheadMsPerItem: wall time per item of a whole `glmv eval run` pass (load the 1,000 OCRBench items, ask a
 *   model client that answers instantly, cache every response in SQLite, score with the official rule, write
 *   results.json, samples.jsonl and report.html), median of 3 passes, each on a fresh cache. Target < 2 ms.
 * - concurrencyEfficiency: items per second against a real local HTTP server that answers every chat completion
 *   after a fixed 200 ms, at concurrency 64, as a share of the bound 64 / 0.2 s. Target ≥ 0.95.
 * Prints the two measurements, then exactly one JSON line. Env: BENCH_ITEMS (latency items, default 1280),
 * BENCH_CONCURRENCY (default 64; a lower one shows whether a shortfall is the harness or a CPU-starved machine).
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ResponseCache } from "../src/eval/cache.ts";
import { generateResponses } from "../src/eval/generate.ts";
import type { GenerationResult, ModelClient } from "../src/eval/model-client.ts";
import { OpenAIModelClient } from "../src/eval/models/openai.ts";
import { RetryPolicy } from "../src/eval/retry.ts";
import { runEval, writeEvalRun } from "../src/eval/runner.ts";
import type { EvalItem } from "../src/eval/types.ts";
import { median, seconds } from "./lib.ts";

const OCRBENCH = new URL("../test/benchmarks/ocrbench/OCRBench.json", import.meta.url).pathname;
const LATENCY_MS = 200;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const LATENCY_ITEMS = Number(process.env.BENCH_ITEMS ?? 1280);
const retry = RetryPolicy.parse({});

/** A model that answers at once, in the GLM-4.1V format with a box. */
const instant: ModelClient = {
  id: "bench:instant",
  async generate(req): Promise<GenerationResult> {
    const box = `<|begin_of_box|>${req.prompt.slice(0, 12)}<|end_of_box|>`;
    return {
      text: `<think>Reading the image.</think><answer>${box}</answer>`,
      finishReason: "stop",
      forcedAnswer: false,
    };
  },
};

/** One full pass on a fresh run folder; returns its seconds and item count. */
async function harnessPass(): Promise<{ s: number; items: number }> {
  const dir = mkdtempSync(join(tmpdir(), "glmv-bench-eval-"));
  let items = 0;
  try {
    const s = await seconds(async () => {
      const cache = ResponseCache.open(dir);
      const startedAt = new Date().toISOString();
      const outcomes = await runEval({
        client: instant,
        tasks: [{ task: "ocrbench", data: OCRBENCH }],
        thinking: true,
        maxTokens: 8192,
        temperature: 0,
        seed: 0,
        concurrency: 16,
        retry,
        extract: "auto",
        cache,
      });
      items = outcomes.reduce((n, o) => n + o.run.n, 0);
      const meta = {
        glmvVersion: "bench",
        model: instant.id,
        settings: {},
        startedAt,
        finishedAt: startedAt,
      };
      await writeEvalRun(dir, outcomes, meta);
      cache.close();
    });
    return { s, items };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The latency server's code: answers every chat completion after `LATENCY_MS` (its own process, as a model server). */
const SERVER_JS = `
const reply = JSON.stringify({
  choices: [{ index: 0, message: { role: "assistant", content: "<answer>ok</answer>" }, finish_reason: "stop" }],
  usage: { completion_tokens: 3 },
});
const server = require("node:http").createServer((req, res) => {
  req.resume();
  req.on("end", () => setTimeout(() => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(reply);
  }, ${LATENCY_MS}));
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

async function slowServer(): Promise<{ url: string; close: () => void }> {
  const child = spawn(process.execPath, ["-e", SERVER_JS], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`latency server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}/v1`, close: () => void child.kill() };
}

async function concurrencyEfficiency(): Promise<{
  efficiency: number;
  itemsPerSec: number;
  cpuMsPerItem: number;
}> {
  const server = await slowServer();
  const client = new OpenAIModelClient({ baseUrl: server.url, model: "bench" });
  const items = (n: number, tag: string): EvalItem[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `${tag}${i}`,
      prompt: `q ${tag}${i}`,
      images: [],
      gold: "",
      fields: {},
    }));
  const opts = { thinking: true, maxTokens: 64, temperature: 0, seed: 0, concurrency: CONCURRENCY, retry };
  try {
    await generateResponses(client, { name: "warmup" }, items(CONCURRENCY, "w"), opts); // open the connections
    const cache = ResponseCache.open(":memory:");
    const cpu0 = process.cpuUsage();
    const s = await seconds(async () => {
      await generateResponses(client, { name: "bench" }, items(LATENCY_ITEMS, "b"), { ...opts, cache });
    });
    const cpu = process.cpuUsage(cpu0);
    cache.close();
    const itemsPerSec = LATENCY_ITEMS / s;
    const cpuMsPerItem = (cpu.user + cpu.system) / 1000 / LATENCY_ITEMS;
    return { efficiency: itemsPerSec / (CONCURRENCY / (LATENCY_MS / 1000)), itemsPerSec, cpuMsPerItem };
  } finally {
    server.close();
  }
}

await harnessPass(); // warm-up: module loading, JIT, sharp
const passes = [await harnessPass(), await harnessPass(), await harnessPass()];
const overheadMsPerItem = median(passes.map((p) => (1000 * p.s) / p.items));
console.log(
  `harness: ${passes[0]!.items} OCRBench items per pass, ${overheadMsPerItem.toFixed(3)} ms/item (median of 3)`,
);
const latency = await concurrencyEfficiency();
console.log(
  `latency ${LATENCY_MS} ms × concurrency ${CONCURRENCY}: ${latency.itemsPerSec.toFixed(1)} items/s of a bound ${(CONCURRENCY / (LATENCY_MS / 1000)).toFixed(0)} (client CPU ${latency.cpuMsPerItem.toFixed(2)} ms/item; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)`,
);
console.log(
  JSON.stringify({
    bench: "eval",
    overheadMsPerItem: Number(overheadMsPerItem.toFixed(3)),
    concurrencyEfficiency: Number(latency.efficiency.toFixed(4)),
  }),
);
