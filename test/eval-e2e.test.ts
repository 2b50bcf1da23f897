/**
 * The harness end to end, across processes, as CI can run it without a GPU: `glmv serve model` over a tiny random
 * checkpoint, a counting proxy in front of it, and `glmv eval run --model openai:URL` on small samples of five
 * tasks in their release formats with real images (AI2D, RefCOCO, ScreenSpot, Video-MME frames from
 * test/benchmarks; MathVista testmini records with generated JPEGs), in thinking and non-thinking modes. Then a
 * run is SIGKILLed midway and rerun: the rerun asks nothing the first run already had an answer for.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTask } from "../src/eval/registry.ts";
import { readResults, readSamples } from "../src/eval/results.ts";
import { GLMV_BIN, runGlmv, type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";
import { writeTinyCheckpoint } from "./helpers/tiny-checkpoint.ts";

const BENCH = resolve(import.meta.dirname, "benchmarks");
const LIMIT = 2;
let dir: string;
let server: SpawnedServer;
let proxy: CountingProxy;
let data: Record<string, string>;

/** One chat request seen by the proxy: its body, and the status it was answered with (none while held). */
type Seen = { key: string; continuation: boolean; thinking: boolean | undefined; status?: number };

/** An HTTP proxy that logs every chat request to the model server and can hold a request unanswered. */
class CountingProxy {
  readonly seen: Seen[] = [];
  /** Decides, for each arriving chat request, whether it is held (never answered). */
  hold: ((request: Seen) => boolean) | undefined;
  readonly #server: Server;
  url = "";

  constructor(target: string) {
    const upstream = new URL(target);
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const chat = req.url?.endsWith("/chat/completions") === true;
        const entry = chat ? this.#record(body.toString("utf8")) : undefined;
        if (entry && this.hold?.(entry)) return; // never answered: the client is killed while it waits
        const out = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (up) => {
            const reply: Buffer[] = [];
            up.on("data", (c: Buffer) => reply.push(c));
            up.on("end", () => {
              res.writeHead(up.statusCode ?? 502, up.headers);
              res.end(Buffer.concat(reply));
              if (entry) entry.status = up.statusCode ?? 502;
            });
          },
        );
        out.on("error", () => res.destroy());
        out.end(body);
      });
    });
  }

  #record(text: string): Seen {
    const body = JSON.parse(text) as {
      continue_final_message?: boolean;
      chat_template_kwargs?: { enable_thinking?: boolean };
    };
    const entry: Seen = {
      key: createHash("sha256").update(text).digest("hex"),
      continuation: body.continue_final_message === true,
      thinking: body.chat_template_kwargs?.enable_thinking,
    };
    this.seen.push(entry);
    return entry;
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }
}

/** A MathVista testmini.json of the first `n` records, with a generated JPEG at each record's image path. */
async function mathvistaSample(folder: string, n: number): Promise<string> {
  const all = JSON.parse(readFileSync(join(BENCH, "mathvista/testmini.json"), "utf8")) as Record<
    string,
    { image: string }
  >;
  const picked = Object.fromEntries(Object.entries(all).slice(0, n));
  await mkdir(join(folder, "images"), { recursive: true });
  for (const [i, record] of Object.values(picked).entries()) {
    const [w, h] = [80 + 24 * i, 60 + 10 * i];
    const pixels = Buffer.alloc(w * h * 3);
    for (let p = 0; p < pixels.length; p++) pixels[p] = (p * 13 + i * 71) % 256;
    await sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
      .jpeg()
      .toFile(join(folder, record.image));
  }
  const file = join(folder, "testmini.json");
  await writeFile(file, JSON.stringify(picked));
  return file;
}

/** `glmv eval run` argv against the proxy, for thinking on or off, writing to `out`. */
const evalArgs = (out: string, thinking: "on" | "off", concurrency = 4) => [
  "eval",
  "run",
  "--model",
  `openai:${proxy.url}/v1#tiny`,
  "--tasks",
  Object.keys(data).join(","),
  "--data",
  Object.entries(data)
    .map(([task, path]) => `${task}=${path}`)
    .join(","),
  "--out",
  out,
  "--limit",
  String(LIMIT),
  "--thinking",
  thinking,
  "--max-tokens",
  "6",
  "--force-answer-tokens",
  "6",
  "--max-pixels",
  "40000",
  "--concurrency",
  String(concurrency),
];

/** The first `LIMIT` ids of each task, as its loader reads them (the runner takes the first N in file order). */
async function expectedIds(): Promise<Record<string, string[]>> {
  const ids: Record<string, string[]> = {};
  for (const [name, path] of Object.entries(data)) {
    const items = await (await loadTask(name)).load(path);
    ids[name] = items.slice(0, LIMIT).map((i) => i.id);
  }
  return ids;
}

/** results.json: every task with n = LIMIT, all requests answered, counted; samples.jsonl: the benchmark ids. */
async function expectCompleteRun(out: string): Promise<void> {
  const results = await readResults(out);
  expect(Object.keys(results.tasks).sort()).toEqual(Object.keys(data).sort());
  for (const r of Object.values(results.tasks)) {
    expect(r).toMatchObject({ n: LIMIT, succeeded: LIMIT, successRate: 1, counts: true });
  }
  const samples = await readSamples(out);
  const want = await expectedIds();
  for (const task of Object.keys(data)) {
    const got = samples.filter((s) => s.task === task);
    expect(got.map((s) => s.id).sort()).toEqual([...want[task]!].sort());
    for (const s of got) expect(typeof s.response).toBe("string");
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "glmv-eval-e2e-"));
  await writeTinyCheckpoint(join(dir, "tiny"));
  data = {
    ai2d: join(BENCH, "mmmu-pro/data.jsonl"),
    refcoco: join(BENCH, "refcoco/refcoco-sample.jsonl"),
    screenspot: join(BENCH, "screenspot/seeclick/screenspot_test"),
    videomme: join(BENCH, "videomme/output_test_template.json"),
    mathvista: await mathvistaSample(join(dir, "mathvista"), LIMIT),
  };
  // A small image cap keeps the tiny model's prompts short. One request at a time: each image then compiles one
  // prefill shape, which the later runs (same items, same budgets) reuse; batching is tested in chat-model.test.ts.
  server = await spawnGlmvServer([
    "serve",
    "model",
    "--model",
    join(dir, "tiny"),
    "--port",
    "0",
    "--max-pixels",
    "12544",
    "--max-tokens",
    "64",
    "--max-batch",
    "1",
  ]);
  proxy = new CountingProxy(server.url);
  await proxy.listen();
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  server?.child.kill("SIGTERM");
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("glmv serve model + glmv eval run --model openai:URL", () => {
  it("thinking on: every task's items answered and scored, force-answer continuations included", async () => {
    const run = await runGlmv(evalArgs(join(dir, "on"), "on"), { killAfterMs: 120_000 });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    await expectCompleteRun(join(dir, "on"));
    const asked = proxy.seen.filter((s) => !s.continuation);
    expect(asked).toHaveLength(5 * LIMIT);
    expect(asked.every((s) => s.thinking === true && s.status === 200)).toBe(true);
    // the tiny model never closes its thought within 6 tokens: each item is force-answered by a continuation
    expect(proxy.seen.filter((s) => s.continuation && s.status === 200).length).toBeGreaterThan(0);
  }, 150_000);

  it("thinking off: enable_thinking false on every request, no continuation", async () => {
    const before = proxy.seen.length;
    const run = await runGlmv(evalArgs(join(dir, "off"), "off"), { killAfterMs: 120_000 });
    expect(run.code).toBe(0);
    await expectCompleteRun(join(dir, "off"));
    const sent = proxy.seen.slice(before);
    expect(sent).toHaveLength(5 * LIMIT);
    expect(sent.every((s) => s.thinking === false && !s.continuation && s.status === 200)).toBe(true);
  }, 150_000);

  it("a run SIGKILLed midway resumes from its cache without asking again what was answered", async () => {
    const out = join(dir, "killed");
    const before = proxy.seen.length;
    const answered = () => proxy.seen.slice(before).filter((s) => s.status === 200);
    // one request at a time: when a new item's request arrives, every earlier answer has reached the cache
    const child: ChildProcess = spawn(process.execPath, [GLMV_BIN, ...evalArgs(out, "on", 1)], {
      stdio: "ignore",
    });
    const killed = new Promise<void>((done) => child.once("exit", () => done()));
    proxy.hold = (s) => {
      if (s.continuation || answered().length < 4) return false;
      child.kill("SIGKILL");
      return true;
    };
    await killed;
    proxy.hold = undefined;
    const first = proxy.seen.slice(before);
    const answeredFirst = new Set(first.filter((s) => s.status === 200).map((s) => s.key));
    expect(answeredFirst.size).toBeGreaterThanOrEqual(4);

    const rerunStart = proxy.seen.length;
    const rerun = await runGlmv(evalArgs(out, "on", 1), { killAfterMs: 120_000 });
    expect(rerun.code).toBe(0);
    const resent = proxy.seen.slice(rerunStart);
    expect(resent.length).toBeGreaterThan(0); // what the killed run never got is asked now
    expect(resent.filter((s) => answeredFirst.has(s.key))).toEqual([]);
    await expectCompleteRun(out);
  }, 240_000);
});
