/**
 * `npm run bench:serve`: load on the reward server over loopback, the way OpenRLHF calls it (one item per
 * `POST /get_reward`, many in flight), the way slime's `--rm-type remote_rm` calls it (one `{prompt, response, label}`
 * sample per `POST /get_reward`, 64 connections: its aiohttp pool's limit), then 64-item batches on `POST /v1/score`. The server runs in a child
 * process (`glmv serve reward --port 0`) so that autocannon does not share its event loop. Items mix every domain
 * (the legitimate and hacking corpora). Prints the two autocannon summaries, then exactly one JSON line:
 * {"rps", "p99Ms", "errors", "slimeRps", "slimeP99Ms", "slimeErrors", "batchItemsPerSec"} (`errors` counts all three
 * phases). Options via env: BENCH_SECONDS (10), BENCH_CONNECTIONS (32),
 * BENCH_WORKERS (reward workers; default: available parallelism, as the server's own default).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import { hackingCases, legitimateCases } from "../src/reward/hacking-corpus.ts";
import type { ScoreInput } from "../src/reward/system.ts";

type CannonRequest = { method: "POST"; path: string; headers: Record<string, string>; body: string };
type CannonResult = {
  requests: { average: number; total: number };
  latency: { p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
};
type Cannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  requests: CannonRequest[];
}) => Promise<CannonResult>;

// autocannon ships CommonJS without types; this is the slice of its API used here.
const autocannon = createRequire(import.meta.url)("autocannon") as Cannon;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const WORKERS = Number(process.env.BENCH_WORKERS ?? availableParallelism());
const PROMPT = "[gMASK]<sop><|user|>Answer the question about the image.<|assistant|>";
const SLIME_CONNECTIONS = 64;
const JSON_HEADERS = { "content-type": "application/json" };

function corpus(): ScoreInput[] {
  return [...legitimateCases(), ...hackingCases()].map((c) => c.item);
}

/** One OpenRLHF request per item: prompt + response decoded together, the label as JSON. */
function openRlhfRequest(item: ScoreInput): CannonRequest {
  const { domain, answer, question, options, style } = item;
  return {
    method: "POST",
    path: "/get_reward",
    headers: JSON_HEADERS,
    body: JSON.stringify({
      query: [`${PROMPT}${item.response}<|user|>`],
      prompts: [PROMPT],
      labels: [JSON.stringify({ domain, answer, question, options, style })],
    }),
  };
}

/** One slime remote_rm request per item: the response alone, the label as JSON (`slime/rollout/rm_hub`). */
function slimeRequest(item: ScoreInput): CannonRequest {
  const { domain, answer, question, options, style } = item;
  return {
    method: "POST",
    path: "/get_reward",
    headers: JSON_HEADERS,
    body: JSON.stringify({
      prompt: PROMPT,
      response: item.response,
      label: JSON.stringify({ domain, answer, question, options, style }),
    }),
  };
}

function batchRequests(items: ScoreInput[], size: number): CannonRequest[] {
  const out: CannonRequest[] = [];
  for (let i = 0; i + size <= items.length; i += size) {
    out.push({
      method: "POST",
      path: "/v1/score",
      headers: JSON_HEADERS,
      body: JSON.stringify({ items: items.slice(i, i + size) }),
    });
  }
  return out;
}

/** Start the server and resolve with its URL from the `listening on` line. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const bin = new URL("../bin/glmv.js", import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [bin, "serve", "reward", "--port", "0", "--workers", String(WORKERS)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once("exit", (code) => reject(new Error(`server exited with code ${code}`)));
  });
}

const failures = (r: CannonResult) => r.errors + r.timeouts + r.non2xx;

async function main(): Promise<void> {
  const items = corpus();
  const { child, url } = await startServer();
  try {
    // Warm-up: workers load their verifiers on first use.
    await autocannon({ url, connections: 8, duration: 2, requests: items.map(openRlhfRequest) });
    const single = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: items.map(openRlhfRequest),
    });
    console.error(
      `one item/request: ${single.requests.average.toFixed(0)} req/s, p99 ${single.latency.p99} ms, ` +
        `${failures(single)} errors (${single.requests.total} requests, ${CONNECTIONS} connections, ${WORKERS} workers)`,
    );
    const slime = await autocannon({
      url,
      connections: SLIME_CONNECTIONS,
      duration: SECONDS,
      requests: items.map(slimeRequest),
    });
    console.error(
      `slime remote_rm, one sample/request: ${slime.requests.average.toFixed(0)} req/s, p99 ${slime.latency.p99} ms, ` +
        `${failures(slime)} errors (${slime.requests.total} requests, ${SLIME_CONNECTIONS} connections)`,
    );
    const batch = await autocannon({
      url,
      connections: 4,
      duration: SECONDS,
      requests: batchRequests([...items, ...items], 64),
    });
    const batchItemsPerSec = batch.requests.average * 64;
    console.error(
      `64-item batches: ${batch.requests.average.toFixed(1)} req/s = ${batchItemsPerSec.toFixed(0)} items/s, ` +
        `p99 ${batch.latency.p99} ms, ${failures(batch)} errors`,
    );
    console.log(
      JSON.stringify({
        rps: Math.round(single.requests.average),
        p99Ms: single.latency.p99,
        errors: failures(single) + failures(slime) + failures(batch),
        slimeRps: Math.round(slime.requests.average),
        slimeP99Ms: slime.latency.p99,
        slimeErrors: failures(slime),
        batchItemsPerSec: Math.round(batchItemsPerSec),
      }),
    );
  } finally {
    child.kill("SIGTERM");
  }
}

await main();
