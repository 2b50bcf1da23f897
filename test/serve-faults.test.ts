import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RewardPool } from "../src/reward/pool.ts";
import { createRewardServer } from "../src/serve/reward-server.ts";
import { mulberry32 } from "../src/util/rng.ts";
import { spawnGlmvServer } from "./helpers/spawn-glmv.ts";
import { trickleBody } from "./helpers/trickle.ts";

const box = (a: string) => `<|begin_of_box|>${a}<|end_of_box|>`;
const ok41 = (a: string) => `<think>reasoning</think><answer>${box(a)}</answer>`;

/** Answers that make computer algebra or number parsing work hard. */
const BOMBS = [
  "10^{10^{10^{10^{10}}}}",
  "\\sum_{n=1}^{10^{12}} n^n",
  "(1+x)^{1000000}",
  "99999999!",
  "9".repeat(100_000),
  `${"\\frac{".repeat(2000)}1${"}".repeat(2000)}`,
  "((((((((((".repeat(500),
  "1e999999999",
];

/** One hostile body (a string: it may not even be JSON), chosen by `k` and the seeded `rand`. */
function hostileBody(k: number, rand: () => number): { url: string; body: string } {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const label = (domain: unknown, answer: unknown) => JSON.stringify({ domain, answer });
  const url = rand() < 0.5 ? "/get_reward" : "/v1/score";
  switch (k % 12) {
    case 0: // truncated or garbled JSON
      return {
        url,
        body: JSON.stringify({ query: ["x"], labels: [label("math", "1")] }).slice(0, 1 + (k % 40)),
      };
    case 1: // random bytes
      return {
        url,
        body: Array.from({ length: 64 }, () => String.fromCharCode(Math.floor(rand() * 256))).join(""),
      };
    case 2: // wrong types at the top level
      return { url, body: JSON.stringify(pick([null, 1, "s", [], true, { query: 1 }, { items: "x" }])) };
    case 3: // wrong types inside
      return {
        url,
        body: JSON.stringify(
          url === "/get_reward"
            ? { query: [pick([1, null, {}, []])], labels: [pick([1, null, [], "{"])] }
            : { items: [pick([{ domain: 1 }, { id: {}, domain: "math" }, { response: [] }, null])] },
        ),
      };
    case 4: // huge strings (within the body limit)
      return {
        url: "/v1/score",
        body: JSON.stringify({
          items: [
            {
              id: k,
              domain: pick(["ocr", "text", "counting"]),
              answer: "a",
              response: "x".repeat(k % 48 === 4 ? 500_000 : 20_000),
            },
          ],
        }),
      };
    case 5: {
      // deep nesting (V8 parses 20,000 levels in ~20 ms, so only some bodies go that deep)
      const depth = k % 120 === 5 ? 20_000 : 1_000;
      return { url, body: `{"query":${"[".repeat(depth)}${"]".repeat(depth)},"labels":[]}` };
    }
    case 6: // deep nesting inside an otherwise valid item's unknown field
      return {
        url: "/v1/score",
        body: `{"items":[{"id":1,"domain":"counting","answer":"3","response":"${"<think>a</think><answer>3</answer>"}","extra":${"[".repeat(10_000)}${"]".repeat(10_000)}}]}`,
      };
    case 7: // prototype poisoning
      return { url, body: `{"__proto__":{"polluted":1},"query":["x"],"labels":["{}"]}` };
    case 8: // computer-algebra bombs (a few per run: each may cost a deadline)
      return {
        url: "/v1/score",
        body: JSON.stringify({
          items: [
            {
              id: k,
              domain: pick(["math", "chart", "counting", "physics"]),
              answer: "2",
              response: ok41(pick(BOMBS)),
            },
          ],
        }),
      };
    case 9: // labels that are JSON but not objects, or name unknown domains
      return {
        url: "/get_reward",
        body: JSON.stringify({ query: ["q"], labels: [pick(["1", "[]", "null", label("astro", "1")])] }),
      };
    case 10: // hostile but well-formed responses: tags everywhere, control characters, lone surrogates
      return {
        url: "/get_reward",
        body: JSON.stringify({
          query: [
            pick([
              "<think>".repeat(5000),
              "</answer>".repeat(3000),
              "\u0000\ud800<|assistant|>",
              box("1").repeat(2000),
            ]),
          ],
          labels: [label(pick(["math", "ocr", "grounding", "gui", "choice"]), "1")],
        }),
      };
    default: // empty and odd bodies
      return { url, body: pick(["", " ", "{}", "[]", '{"query":[]}', '{"items":[]}']) };
  }
}

describe("reward server under hostile input", () => {
  let pool: RewardPool;
  let app: ReturnType<typeof createRewardServer>;
  beforeAll(async () => {
    pool = new RewardPool({ workers: 2, deadlineMs: 500 });
    app = createRewardServer({ pool, bodyLimit: 1 << 20 });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await pool.close();
  });

  it("answers 10,000 malformed or hostile bodies with 2xx/4xx, then still scores", async () => {
    const rand = mulberry32(6);
    const statuses = new Map<number, number>();
    const bombsLeft = { n: 16 };
    const bodies = Array.from({ length: 10_000 }, (_, k) => {
      // Keep the computer-algebra bombs few: each may cost a deadline and a worker restart.
      if (k % 12 === 8 && bombsLeft.n-- <= 0) return hostileBody(k + 1, rand);
      return hostileBody(k, rand);
    });
    for (let i = 0; i < bodies.length; i += 200) {
      const replies = await Promise.all(
        bodies.slice(i, i + 200).map(({ url, body }) =>
          app.inject({
            method: "POST",
            url,
            payload: body,
            headers: { "content-type": "application/json" },
          }),
        ),
      );
      for (const r of replies) {
        statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
        if (r.statusCode >= 400) expect(r.json().error).toHaveProperty("code");
      }
    }
    const answered = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(answered).toBe(10_000);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    expect(statuses.get(200)).toBeGreaterThan(500);
    expect(statuses.get(400)).toBeGreaterThan(1000);
    const after = await app.inject({
      method: "POST",
      url: "/v1/score",
      payload: { items: [{ id: 1, domain: "counting", answer: "3", response: ok41("3") }] },
    });
    expect(after.json().results[0].reward).toBe(1);
  }, 120_000);

  it("survives hostile bodies and raw garbage over a real socket", async () => {
    const address = await app.listen({ host: "127.0.0.1", port: 0 });
    const rand = mulberry32(7);
    const bodies = Array.from({ length: 300 }, (_, k) => hostileBody(k === 8 ? 9 : k, rand));
    const statuses = await Promise.all(
      bodies.map(async ({ url, body }) => {
        const res = await fetch(`${address}${url}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses.every((s) => s >= 200 && s < 500)).toBe(true);
    // Not even HTTP: the connection is answered or closed, and the server goes on.
    const { port } = new URL(address);
    await Promise.all(
      [
        "GARBAGE\r\n\r\n",
        "POST /get_reward HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n{",
        "\u0000".repeat(10_000),
      ].map(
        (raw) =>
          new Promise<void>((resolve) => {
            const socket = connect(Number(port), "127.0.0.1", () => socket.end(raw));
            socket.on("data", () => {});
            socket.on("error", () => resolve());
            socket.on("close", () => resolve());
            socket.setTimeout(2000, () => socket.destroy());
          }),
      ),
    );
    const health = await fetch(`${address}/healthz`);
    expect(health.status).toBe(200);
  }, 60_000);
});

describe("reward server: bodies built to hold the event loop or a socket", () => {
  let pool: RewardPool;
  let app: ReturnType<typeof createRewardServer>;
  let address: string;
  beforeAll(async () => {
    pool = new RewardPool({ workers: 1, deadlineMs: 500 });
    app = createRewardServer({ pool });
    address = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await pool.close();
  });

  // 8 million nested arrays: V8's JSON.parse alone held the event loop ~6 s on one, /healthz included.
  const nest = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
  const sixteenMegNest = nest((8 << 20) - 64);

  it("refuses a 16 MB nest of arrays with 400 before parsing it, then still scores", async () => {
    for (const [url, body] of [
      ["/get_reward", `{"query":${sixteenMegNest},"labels":[]}`],
      [
        "/v1/score",
        `{"items":[{"id":1,"domain":"counting","answer":"3","response":"x","extra":${sixteenMegNest}}]}`,
      ],
    ] as const) {
      const res = await fetch(`${address}${url}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: unknown }).error).toMatchObject({
        code: "bad_input",
        field: "body",
        message: expect.stringMatching(/JSON nests deeper than 64 levels/),
      });
    }
    const ok = await app.inject({
      method: "POST",
      url: "/v1/score",
      payload: { items: [{ id: 1, domain: "counting", answer: "3", response: ok41("3") }] },
    });
    expect(ok.json().results[0].reward).toBe(1);
  }, 60_000);

  it("refuses a label string that holds a deep nest (labels are parsed again, past the body scan)", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/get_reward",
      payload: {
        query: [ok41("3")],
        labels: [JSON.stringify({ domain: "counting", answer: "3" }), nest(100_000)],
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      field: "labels.1",
      message: expect.stringMatching(/deeper than 64/),
    });
  });

  it("cuts off a body trickled a byte at a time with 408, then still answers", async () => {
    const quick = createRewardServer({ pool, requestTimeoutMs: 300 });
    const quickAddress = await quick.listen({ host: "127.0.0.1", port: 0 });
    try {
      const { closed, answer } = await trickleBody(`${quickAddress}/get_reward`);
      expect(closed).toBe(true);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toContain('"code":"request_timeout"');
      expect((await fetch(`${quickAddress}/healthz`)).status).toBe(200);
    } finally {
      await quick.close();
    }
  }, 20_000);
});

/** Start `glmv serve curriculum` and resolve with its URL once it listens. */
const startCurriculum = (args: string[]) =>
  spawnGlmvServer(["serve", "curriculum", "--port", "0", ...args], "ignore");

describe("curriculum server: kill -9 with observes in flight", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "glmv-kill-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loses no acknowledged observation", async () => {
    const db = join(dir, "state.sqlite");
    const promptsFile = join(dir, "prompts.jsonl");
    writeFileSync(
      promptsFile,
      Array.from({ length: 50 }, (_, i) =>
        JSON.stringify({ id: `p${i}`, prompt: `q${i}`, difficulty: 0.5 }),
      ).join("\n"),
    );
    const first = await startCurriculum(["--db", db, "--prompts", promptsFile]);
    const acked = new Map<string, number>(); // requestId → rollouts
    const sent = new Map<string, number>();
    const ackedPerPrompt = new Map<string, number>();
    let stop = false;
    const rand = mulberry32(11);
    const client = async (c: number) => {
      for (let k = 0; !stop; k++) {
        const requestId = `c${c}-${k}`;
        const id = `p${Math.floor(rand() * 50)}`;
        const rewards = Array.from({ length: 4 }, () => (rand() < 0.5 ? 1 : 0));
        sent.set(requestId, rewards.length);
        try {
          const res = await fetch(`${first.url}/v1/observe`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ results: [{ id, rewards }], requestId }),
          });
          if (res.status === 200) {
            await res.json();
            acked.set(requestId, rewards.length);
            ackedPerPrompt.set(id, (ackedPerPrompt.get(id) ?? 0) + rewards.length);
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 10));
    const exited = new Promise((r) => first.child.once("exit", r));
    first.child.kill("SIGKILL");
    stop = true;
    await Promise.all(clients);
    await exited;

    const second = await startCurriculum(["--db", db, "--prompts", promptsFile]);
    try {
      const stats = (await (await fetch(`${second.url}/v1/stats`)).json()) as Record<string, number>;
      const ackedRollouts = [...acked.values()].reduce((a, b) => a + b, 0);
      const sentRollouts = [...sent.values()].reduce((a, b) => a + b, 0);
      expect(stats.prompts).toBe(50);
      expect(stats.observedRollouts).toBeGreaterThanOrEqual(ackedRollouts);
      expect(stats.observedRollouts).toBeLessThanOrEqual(sentRollouts);
      for (const [id, n] of ackedPerPrompt) {
        const p = (await (await fetch(`${second.url}/v1/prompts/${id}`)).json()) as { rollouts: number };
        expect(p.rollouts).toBeGreaterThanOrEqual(n);
      }
      // An acknowledged request replayed after the restart is recognised as already applied.
      const [someId] = acked.keys();
      const replay = await fetch(`${second.url}/v1/observe`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ results: [{ id: "p0", rewards: [1] }], requestId: someId }),
      });
      expect(((await replay.json()) as { duplicate: boolean }).duplicate).toBe(true);
    } finally {
      const exited2 = new Promise((r) => second.child.once("exit", r));
      second.child.kill("SIGTERM");
      await exited2;
    }
  }, 60_000);
});
