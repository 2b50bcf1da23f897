import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCurriculumServer } from "../../src/serve/curriculum-server.ts";
import { CurriculumStore } from "../../src/serve/curriculum-store.ts";

let dir: string;
let store: CurriculumStore;
let app: ReturnType<typeof createCurriculumServer>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "glmv-cursrv-"));
  store = CurriculumStore.open(join(dir, "state.sqlite"));
  store.loadPrompts(
    Array.from({ length: 16 }, (_, i) => ({
      id: `p${i}`,
      difficulty: 0.5,
      payload: { prompt: `question ${i}` },
    })),
  );
  app = createCurriculumServer({ store, maxSample: 100 });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (url: string, payload: unknown) =>
  app.inject({ method: "POST", url, payload: payload as object });

describe("curriculum server", () => {
  it("samples prompts with ids and payloads and a nextN hint", async () => {
    const res = await post("/v1/sample", { n: 4 });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.prompts).toHaveLength(4);
    expect(body.prompts[0]).toMatchObject({ id: expect.any(String), prompt: expect.any(String) });
    expect(body.nextN).toBe(4);
  });

  it("observes groups and reflects them in /v1/stats and /v1/prompts/:id", async () => {
    const res = await post("/v1/observe", {
      results: [
        { id: "p0", rewards: [1, 1, 1, 1] },
        { id: "p1", rewards: [1, 0, 0, 1] },
      ],
      requestId: "r1",
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ groups: 2, invalidRate: 0.5, ratioEma: 2, duplicate: false });
    const stats = (await app.inject({ method: "GET", url: "/v1/stats" })).json();
    expect(stats).toMatchObject({ prompts: 16, observedGroups: 2, observedRollouts: 8, ratioEma: 2 });
    const p1 = (await app.inject({ method: "GET", url: "/v1/prompts/p1" })).json();
    expect(p1).toMatchObject({ rollouts: 4, correct: 2, groups: 1 });
    expect((await post("/sample", { n: 2 })).json().nextN).toBe(4);
  });

  it("stays consistent under concurrent samples and observes", async () => {
    const before = (await app.inject({ method: "GET", url: "/v1/stats" })).json();
    const calls = Array.from({ length: 60 }, (_, k) =>
      k % 3 === 0
        ? post("/v1/sample", { n: 3 })
        : post("/v1/observe", {
            results: [{ id: `p${k % 16}`, rewards: [1, 0, k % 2] }],
            requestId: `c${k}`,
          }),
    );
    const replies = await Promise.all(calls);
    expect(replies.every((r) => r.statusCode === 200)).toBe(true);
    const after = (await app.inject({ method: "GET", url: "/v1/stats" })).json();
    expect(after.observedGroups - before.observedGroups).toBe(40);
    expect(after.observedRollouts - before.observedRollouts).toBe(120);
    expect(after.step - before.step).toBe(20);
    let perPrompt = 0;
    for (let i = 0; i < 16; i++)
      perPrompt += (await app.inject({ method: "GET", url: `/v1/prompts/p${i}` })).json().rollouts;
    expect(perPrompt).toBe(after.observedRollouts);
  });

  it("answers 4xx with the field named for bad bodies and unknown ids", async () => {
    const cases: [unknown, number, string][] = [
      [{ n: 0 }, 400, "n"],
      [{ n: 1.5 }, 400, "n"],
      [{ n: 101 }, 400, "n"],
      [{}, 400, "n"],
    ];
    for (const [body, status, field] of cases) {
      const res = await post("/v1/sample", body);
      expect(res.statusCode).toBe(status);
      expect(res.json().error.field).toBe(field);
    }
    const badReward = await post("/v1/observe", { results: [{ id: "p0", rewards: ["1"] }] });
    expect(badReward.json().error.field).toBe("results.0.rewards.0");
    const unknown = await post("/v1/observe", { results: [{ id: "zzz", rewards: [1] }] });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.field).toBe("results.0.id");
    const missing = await app.inject({ method: "GET", url: "/v1/prompts/zzz" });
    expect(missing.statusCode).toBe(404);
  });

  it("refuses rewards outside [0, 1] and empty groups, naming the field, and changes nothing", async () => {
    const before = (await app.inject({ method: "GET", url: "/v1/stats" })).json();
    const good = { id: "p0", rewards: [1, 0] };
    const cases: [unknown, string][] = [
      [[good, good, good, { id: "p3", rewards: [1.5, 0] }], "results.3.rewards.0"],
      [[good, { id: "p1", rewards: [0, -0.25] }], "results.1.rewards.1"],
      [[{ id: "p2", rewards: [] }], "results.0.rewards"],
      [[good, { id: "p2", rewards: [1e308 * 10] }], "results.1.rewards.0"],
    ];
    for (const [results, field] of cases) {
      const res = await post("/v1/observe", { results, requestId: `bad-${field}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: "bad_input", field });
    }
    const after = (await app.inject({ method: "GET", url: "/v1/stats" })).json();
    expect(after).toEqual(before);
    // The ends of the range are rewards like any other.
    expect((await post("/v1/observe", { results: [{ id: "p0", rewards: [0, 1] }] })).statusCode).toBe(200);
  });
});
