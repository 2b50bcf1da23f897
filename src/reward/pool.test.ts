import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isGlmvError } from "../util/errors.ts";
import { RewardPool } from "./pool.ts";
import { type ScoreInput, scoreItem } from "./system.ts";

const FIXTURE = new URL("./pool.fixture.ts", import.meta.url);
const DEADLINE_MS = 600;

const boxed = (answer: string) =>
  `<think>work</think><answer><|begin_of_box|>${answer}<|end_of_box|></answer>`;
const textItem = (id: number, gold: string): ScoreInput => ({
  id,
  domain: "text",
  response: boxed("yes"),
  answer: gold,
});

describe("RewardPool", () => {
  let pool: RewardPool;
  beforeAll(() => {
    pool = new RewardPool({ workers: 2, deadlineMs: DEADLINE_MS, extraVerifiersModule: FIXTURE });
  });
  afterAll(async () => {
    await pool.close();
  });

  it("returns one result per item, in order, equal to scoring in this thread", async () => {
    const items: ScoreInput[] = [
      { id: "a", domain: "counting", response: boxed("3"), answer: "3" },
      { id: "b", domain: "counting", response: boxed("4"), answer: "3" },
      { id: "c", domain: "math", response: "no tags at all", answer: "1" },
      {
        id: "d",
        domain: "math",
        response: "<think>w</think><|begin_of_box|>2<|end_of_box|>",
        answer: "2",
        style: "4.5v",
      },
    ];
    const results = await pool.score(items);
    expect(results).toEqual(items.map((item) => scoreItem(item)));
    expect(results.map((r) => r.reward)).toEqual([1, 0, 0, 1]);
  });

  it("cuts a verifier that loops forever at the deadline and records a timeout", async () => {
    const t0 = performance.now();
    const [hung, after] = await pool.score([textItem(1, "__hang__"), textItem(2, "yes")]);
    const elapsed = performance.now() - t0;
    expect(hung).toMatchObject({ reward: 0, correct: false, timedOut: true, stage: "timeout" });
    expect(after).toMatchObject({ reward: 1, correct: true, timedOut: false });
    expect(elapsed).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
    expect(elapsed).toBeLessThan(DEADLINE_MS * 3 + 1000);
  });

  it("cuts a real computer-algebra evaluation of \\sum_{n=1}^{10^8} n at the deadline", async () => {
    const t0 = performance.now();
    const cas: ScoreInput = {
      id: 1,
      domain: "text",
      response: boxed("\\sum_{n=1}^{10^8} n"),
      answer: "__cas__",
    };
    const [r] = await pool.score([cas]);
    expect(r).toMatchObject({ reward: 0, timedOut: true });
    expect(performance.now() - t0).toBeLessThan(DEADLINE_MS * 3 + 1000);
  });

  it("completes a batch of 200 with exactly the hanging items timed out", async () => {
    const hanging = new Set([3, 77, 78, 199]);
    const items = Array.from({ length: 200 }, (_, i) => textItem(i, hanging.has(i) ? "__hang__" : "yes"));
    const timings: number[] = [];
    const results = await pool.score(items, { onResult: (_, __, t) => timings.push(t.ms) });
    const timedOut = results.flatMap((r, i) => (r.timedOut ? [i] : []));
    expect(timedOut).toEqual([...hanging]);
    expect(results.filter((r) => r.correct)).toHaveLength(196);
    expect(timings).toHaveLength(200);
  });

  it("records a crashed worker per item and replaces it", async () => {
    const results = await pool.score([textItem(1, "yes"), textItem(2, "__crash__"), textItem(3, "yes")]);
    expect(results[1]).toMatchObject({ reward: 0, stage: "crash", timedOut: false });
    expect(results[1]!.reason).toMatch(/code 7/);
    expect([results[0]!.correct, results[2]!.correct]).toEqual([true, true]);
  });

  it("a verifier that throws is a zero in place, not a crash", async () => {
    const [r] = await pool.score([textItem(1, "__throw__")]);
    expect(r).toMatchObject({ reward: 0, stage: "verifier_error", timedOut: false });
    expect(r!.reason).toMatch(/verifier bug/);
  });

  it("serves concurrent batches", async () => {
    const a = Array.from({ length: 30 }, (_, i) => textItem(i, "yes"));
    const b = Array.from({ length: 30 }, (_, i) => textItem(i, "no"));
    const [ra, rb] = await Promise.all([pool.score(a), pool.score(b)]);
    expect(ra.every((r) => r.correct)).toBe(true);
    expect(rb.every((r) => !r.correct)).toBe(true);
  });

  it("finishes a math item with a huge sum within the deadline either way", async () => {
    const t0 = performance.now();
    const [r] = await pool.score([
      { id: 1, domain: "math", response: boxed("\\sum_{n=1}^{10^8} n"), answer: "5000000050000000" },
    ]);
    expect(performance.now() - t0).toBeLessThan(DEADLINE_MS + 1000);
    expect(r!.reward).toBeGreaterThanOrEqual(0);
    expect(typeof r!.timedOut).toBe("boolean");
  });
});

describe("RewardPool failures", () => {
  it("kills a worker that runs out of memory and records a crash", async () => {
    const pool = new RewardPool({
      workers: 1,
      deadlineMs: 20_000,
      maxWorkerHeapMb: 64,
      extraVerifiersModule: FIXTURE,
    });
    try {
      const results = await pool.score([textItem(1, "__oom__"), textItem(2, "yes")]);
      expect(results[0]).toMatchObject({ reward: 0, stage: "crash" });
      expect(results[1]!.correct).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it("rejects with worker_crashed when workers cannot start", async () => {
    const pool = new RewardPool({
      workers: 1,
      extraVerifiersModule: new URL("./no-such-module.ts", import.meta.url),
    });
    try {
      const err = await pool.score([textItem(1, "yes")]).catch((e: unknown) => e);
      expect(isGlmvError(err) && err.code).toBe("worker_crashed");
    } finally {
      await pool.close();
    }
  });

  it("rejects a non-positive deadline", () => {
    expect(() => new RewardPool({ deadlineMs: 0 })).toThrow(/deadlineMs/);
    expect(() => new RewardPool({ workers: Number.NaN })).toThrow(/workers/);
  });
});

describe("RewardPool close", () => {
  it("rejects pending batches and later calls", async () => {
    const pool = new RewardPool({ workers: 1, extraVerifiersModule: FIXTURE, deadlineMs: 60_000 });
    const pending = expect(pool.score([textItem(1, "yes")])).rejects.toThrow(/closed/);
    await pool.close();
    await pending;
    await expect(pool.score([textItem(1, "yes")])).rejects.toThrow(/closed/);
  });
});

describe("RewardPool input validation", () => {
  it("rejects a batch with a bad item before scoring any, naming the item and field", async () => {
    const pool = new RewardPool({ workers: 1 });
    try {
      const onResult = vi.fn();
      const items = [
        { id: 0, domain: "counting", response: boxed("3"), answer: "3" },
        { id: 1, domain: "counting", response: undefined, answer: "3" },
      ] as unknown as ScoreInput[];
      const err = await pool.score(items, { onResult }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: "GlmvError", code: "bad_input", where: "items.1.response" });
      expect(onResult).not.toHaveBeenCalled();
      // The pool is still usable.
      expect((await pool.score([items[0]!]))[0]).toMatchObject({ reward: 1 });
    } finally {
      await pool.close();
    }
  });
});

describe("RewardPool thinking switch", () => {
  it("passes thinking: false to its workers: a completion without a think block is gated with the empty one", async () => {
    // GLM-4.5V non-thinking mode: the prompt ended with `<think></think>`, the completion is the answer alone.
    const item: ScoreInput = {
      id: "off",
      domain: "counting",
      response: "There are <|begin_of_box|>3<|end_of_box|> apples.",
      answer: "3",
      style: "4.5v",
    };
    const withThink: ScoreInput = { ...item, id: "on", response: `<think>w</think>${item.response}` };
    const off = new RewardPool({ workers: 1, thinking: false });
    const on = new RewardPool({ workers: 1 });
    try {
      const [offResults, onResults] = await Promise.all([
        off.score([item, withThink]),
        on.score([item, withThink]),
      ]);
      expect(offResults[0]).toMatchObject({ reward: 1, format: "ok", extracted: "3", stage: "verify" });
      expect(onResults[0]).toMatchObject({ reward: 0, format: "missing_think", stage: "format" });
      expect(offResults[1]).toEqual(onResults[1]);
      expect(offResults[1]).toMatchObject({ reward: 1 });
    } finally {
      await Promise.all([off.close(), on.close()]);
    }
  });
});
