/**
 * The verl and TRL reward functions in `examples/` run by the system Python against a real `glmv serve reward`
 * child process: rewards, the request-level style, per-data-source answer formats, and what each does when the
 * server refuses a request (4xx: raise with the server's message) or cannot answer (retry, then as documented).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";

const PYTHON = "/usr/bin/python3";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TOKEN = "examples-secret";

type Sample = { pid?: string; answer: string; response: string };
const samples = (file: string): Sample[] =>
  readFileSync(new URL(`fixtures/answer-formats/${file}`, import.meta.url), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Sample);
const NATALIA = samples("gsm8k-reference.jsonl")[0]!;
const GEO_RIGHT = samples("geometry3k-bard.jsonl").find((s) => s.pid === "236")!; // boxes 12, gold 12

/** What a Python call gave: its value, or the exception's class name and message. */
type PyOutcome = { ok: unknown } | { error: string; message: string };

// Each case is the argument list of one call; exceptions are reported, not raised, so one run covers many cases.
const DRIVER = `
import json, sys
sys.path.insert(0, sys.argv[1])
module = __import__(sys.argv[2])
fn = getattr(module, sys.argv[3])
out = []
for case in json.loads(sys.argv[4]):
    try:
        out.append({"ok": fn(*case["args"], **case.get("kwargs", {}))})
    except Exception as e:
        out.append({"error": type(e).__name__, "message": str(e)})
print(json.dumps(out))
`;

type Call = { args: unknown[]; kwargs?: Record<string, unknown> };

function runPython(
  example: "verl" | "trl",
  cases: Call[],
  env: Record<string, string>,
): Promise<PyOutcome[]> {
  const [module, fn] =
    example === "verl" ? ["compute_score", "compute_score"] : ["glmv_reward", "glmv_reward"];
  const dir = `${ROOT}examples/${example}`;
  const child = spawn(PYTHON, ["-c", DRIVER, dir, module, fn, JSON.stringify(cases)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", GLMV_REWARD_TIMEOUT_S: "30", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => {
    stdout += c;
  });
  child.stderr.on("data", (c) => {
    stderr += c;
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`python exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as PyOutcome[]);
    });
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A server that answers 503 (with glmv's error body) `failures` times, then a fixed result: proves a retry. */
function flakyServer(failures: number, result: object): { server: Server; hits: () => number } {
  let hits = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      hits++;
      if (hits <= failures) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "worker_crashed", message: "warming up" } }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ results: [result] }));
    });
  });
  return { server, hits: () => hits };
}

const ONE = { id: 0, reward: 1, correct: true, format: "ok", extracted: "3", timedOut: false };
const hasPython = existsSync(PYTHON);

describe.skipIf(!hasPython)(
  `examples/verl and examples/trl under ${PYTHON}${hasPython ? "" : " (skipped: python3 not found)"}`,
  () => {
    let glmv: SpawnedServer;
    let env: Record<string, string>;
    beforeAll(async () => {
      glmv = await spawnGlmvServer([
        "serve",
        "reward",
        "--port",
        "0",
        "--token",
        TOKEN,
        "--workers",
        "1",
        "--special-tokens",
        "stripped",
      ]);
      env = { GLMV_REWARD_URL: glmv.url, GLMV_SERVE_TOKEN: TOKEN };
    });
    afterAll(() => {
      glmv?.child.kill();
    });

    it("verl: scores right answers 1 and wrong ones 0, in GLM-V and in the GSM8K / geometry3k formats", async () => {
      const hedgedGsm8k = `${NATALIA.response.replace("#### 72", "#### 71")}\n#### 72`;
      const out = await runPython(
        "verl",
        [
          { args: ["counting", "I count one, two, three.\n3", "3"] },
          { args: ["counting", "I count one, two, three.\n4", "3"] },
          { args: ["openai/gsm8k", NATALIA.response, NATALIA.answer] },
          { args: ["openai/gsm8k", hedgedGsm8k, NATALIA.answer] },
          { args: ["hiyouga/geometry3k", GEO_RIGHT.response, GEO_RIGHT.answer] },
          { args: ["hiyouga/geometry3k", `<think>x^2 = 144</think> So \\boxed{12}.`, "12"] },
          { args: ["hiyouga/geometry3k", `<think>x^2 = 144</think> \\boxed{12} or \\boxed{-12}`, "12"] },
          // No mapping for this data source: the GLM-V gate, as before (a bare "#### 72" line is not a box).
          { args: ["my/dataset", "<think>48+24</think>\n#### 72", "72"] },
        ],
        env,
      );
      const scores = out.map((o) => ("ok" in o ? (o.ok as { score: number }).score : o));
      expect(scores).toEqual([1, 0, 1, 0, 1, 1, 0, 0]);
      expect(out[3]).toEqual({
        ok: { score: 0, acc: 0, format_ok: 0, timed_out: 0, server_error: 0 },
      });
    });

    it("verl: GLMV_STYLE=4.5v scores a correct GLM-4.5V response 1 (the request-level style gates it)", async () => {
      const out = await runPython(
        "verl",
        [
          { args: ["counting", "<think>I count one, two, three.</think>3", "3"] },
          { args: ["counting", "<think>I count one, two, three.</think>4", "3"] },
        ],
        { ...env, GLMV_STYLE: "4.5v" },
      );
      expect(out).toEqual([
        { ok: { score: 1, acc: 1, format_ok: 1, timed_out: 0, server_error: 0 } },
        { ok: { score: 0, acc: 0, format_ok: 1, timed_out: 0, server_error: 0 } },
      ]);
    });

    it("verl: a 4xx raises with the server's message (wrong token, bad item); it is never a silent 0", async () => {
      const [wrongToken] = await runPython("verl", [{ args: ["counting", "three\n3", "3"] }], {
        ...env,
        GLMV_SERVE_TOKEN: "wrong",
      });
      expect(wrongToken).toEqual({
        error: "GlmvRequestError",
        message: expect.stringContaining(
          "HTTP 401 unauthorized: missing or wrong bearer token (field authorization)",
        ),
      });
      const [badItem] = await runPython(
        "verl",
        [{ args: ["counting", "three\n3", { answer: "3", style: "5v" }] }],
        env,
      );
      expect(badItem).toEqual({
        error: "GlmvRequestError",
        message: expect.stringMatching(
          /HTTP 400 bad_input: style must be one of 4\.1v, 4\.5v, got "5v" \(at items\.0\.style\)$/,
        ),
      });
    });

    it("verl: retries a 5xx, and an unreachable server is score 0 with server_error 1 after the retries", async () => {
      const flaky = flakyServer(1, ONE);
      const flakyUrl = await listen(flaky.server);
      try {
        const [retried] = await runPython("verl", [{ args: ["counting", "x", "3"] }], {
          GLMV_REWARD_URL: flakyUrl,
        });
        expect(retried).toEqual({ ok: { score: 1, acc: 1, format_ok: 1, timed_out: 0, server_error: 0 } });
        expect(flaky.hits()).toBe(2);
      } finally {
        await new Promise((resolve) => flaky.server.close(resolve));
      }
      const [down] = await runPython("verl", [{ args: ["counting", "x", "3"] }], {
        GLMV_REWARD_URL: `http://127.0.0.1:${await closedPort()}`,
        GLMV_REWARD_RETRIES: "2",
      });
      expect(down).toEqual({ ok: { score: 0, acc: 0, format_ok: 0, timed_out: 0, server_error: 1 } });
    });

    it("trl: scores a batch (None for other domains), honours answerFormat, raises on 4xx with the message", async () => {
      const batch = {
        args: [
          ["q", "q", "q", "q"],
          ["I count three.\n3", "Four?\n4", "n/a", NATALIA.response],
        ],
        kwargs: {
          answer: ["3", "3", "x", "72"],
          domain: ["counting", "counting", "other", "math"],
          answerFormat: [null, null, null, "gsm8k"],
        },
      };
      const [ok] = await runPython("trl", [batch], env);
      expect(ok).toEqual({ ok: [1, 0, null, 1] });
      const [wrong] = await runPython("trl", [batch], { ...env, GLMV_SERVE_TOKEN: "wrong" });
      expect(wrong).toEqual({
        error: "GlmvRequestError",
        message: expect.stringContaining(
          "HTTP 401 unauthorized: missing or wrong bearer token (field authorization)",
        ),
      });
      const style45 = {
        args: [["q"], ["<think>one, two, three</think>3"]],
        kwargs: { answer: ["3"], domain: ["counting"] },
      };
      expect(await runPython("trl", [style45], { ...env, GLMV_STYLE: "4.5v" })).toEqual([{ ok: [1] }]);
    });

    it("trl: retries a 5xx, and raises GlmvServerUnavailable when the server cannot be reached", async () => {
      const call = { args: [["q"], ["three\n3"]], kwargs: { answer: ["3"], domain: ["counting"] } };
      const flaky = flakyServer(2, ONE);
      const flakyUrl = await listen(flaky.server);
      try {
        expect(await runPython("trl", [call], { GLMV_REWARD_URL: flakyUrl })).toEqual([{ ok: [1] }]);
        expect(flaky.hits()).toBe(3);
      } finally {
        await new Promise((resolve) => flaky.server.close(resolve));
      }
      const [down] = await runPython("trl", [call], {
        GLMV_REWARD_URL: `http://127.0.0.1:${await closedPort()}`,
        GLMV_REWARD_RETRIES: "2",
      });
      expect(down).toEqual({
        error: "GlmvServerUnavailable",
        message: expect.stringMatching(/did not answer after 2 tries: .*Connection refused/),
      });
    });
  },
);
