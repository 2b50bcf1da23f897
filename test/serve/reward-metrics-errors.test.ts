/**
 * The reward server counts verifier errors apart from wrong answers and timeouts on `/metrics` (glmv issue 19
 * part 4): a verifier that throws is a reward-code bug, and a dashboard must be able to alert on it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RewardPool } from "../../src/reward/pool.ts";
import { createRewardServer } from "../../src/serve/reward-server.ts";

// Its `text` verifier throws "verifier bug" when the gold answer is "__throw__".
const FIXTURE = new URL("../../src/reward/pool.fixture.ts", import.meta.url);
const r41 = (a: string) => `<think>look</think><answer><|begin_of_box|>${a}<|end_of_box|></answer>`;

let pool: RewardPool;
let app: ReturnType<typeof createRewardServer>;

beforeAll(async () => {
  pool = new RewardPool({ workers: 1, deadlineMs: 2000, extraVerifiersModule: FIXTURE });
  app = createRewardServer({ pool });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await pool.close();
});

describe("reward server /metrics: verifier errors", () => {
  it("reports a throwing verifier as stage verifier_error and counts it per domain, apart from wrong answers", async () => {
    const items = [
      { id: "thrown", domain: "text", response: r41("yes"), answer: "__throw__" },
      { id: "wrong", domain: "text", response: r41("no"), answer: "yes" },
      { id: "right", domain: "counting", response: r41("3"), answer: "3" },
    ];
    const res = await app.inject({ method: "POST", url: "/v1/score", payload: { items } });
    expect(res.statusCode).toBe(200);
    const results = res.json().results as { stage: string; reason: string; reward: number }[];
    expect(results.map((r) => r.stage)).toEqual(["verifier_error", "verify", "verify"]);
    expect(results[0]!.reason).toBe("verifier error: verifier bug");

    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toMatch(/# TYPE glmv_reward_verifier_errors_total counter/);
    expect(text).toMatch(/glmv_reward_verifier_errors_total\{domain="text"\} 1\n/);
    expect(text).not.toMatch(/glmv_reward_verifier_errors_total\{domain="counting"\}/);
    expect(text).toMatch(/glmv_reward_items_total\{domain="text"\} 2\n/);
  });
});
