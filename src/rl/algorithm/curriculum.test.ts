import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../util/rng.ts";
import {
  CURRICULUM_DEFAULTS,
  curriculumWeight,
  estimatedPassRate,
  newPromptStats,
  observePrompt,
  sampleCurriculum,
  sampleUniform,
  sampleWithoutReplacement,
  signalProbability,
} from "./curriculum.ts";

describe("RLCS curriculum", () => {
  it("the prior is the offline difficulty", () => {
    expect(estimatedPassRate(newPromptStats(0.25), 0)).toBeCloseTo(0.75, 12);
  });

  it("online observations dominate the prior and fade with decay", () => {
    const opts = { ...CURRICULUM_DEFAULTS, priorWeight: 2, decay: 0.5 };
    let s = newPromptStats(0.5);
    s = observePrompt(s, 0, [1, 1, 1, 1, 1, 1, 1, 1], opts);
    expect(estimatedPassRate(s, 0, opts)).toBeCloseTo((8 + 1) / (8 + 2), 12);
    // Ten steps later the 8 observations weigh 8·0.5^10, so the estimate is back near the prior 0.5.
    expect(estimatedPassRate(s, 10, opts)).toBeCloseTo((8 / 1024 + 1) / (8 / 1024 + 2), 9);
  });

  it("signal probability peaks at p = 0.5 and vanishes at 0 and 1", () => {
    expect(signalProbability(0, 8)).toBe(0);
    expect(signalProbability(1, 8)).toBe(0);
    expect(signalProbability(0.5, 8)).toBeCloseTo(1 - 2 / 256, 12);
    expect(signalProbability(0.5, 8)).toBeGreaterThan(signalProbability(0.9, 8));
  });

  it("mid-difficulty prompts get the largest weights", () => {
    const opts = { ...CURRICULUM_DEFAULTS, priorWeight: 1 };
    const solved = observePrompt(newPromptStats(0), 0, Array(16).fill(1), opts);
    const hopeless = observePrompt(newPromptStats(1), 0, Array(16).fill(0), opts);
    const mid = observePrompt(newPromptStats(0.5), 0, [1, 0, 1, 0, 1, 0, 1, 0], opts);
    const wMid = curriculumWeight(mid, 0, opts);
    expect(wMid).toBeGreaterThan(5 * curriculumWeight(solved, 0, opts));
    expect(wMid).toBeGreaterThan(5 * curriculumWeight(hopeless, 0, opts));
    expect(curriculumWeight(solved, 0, opts)).toBeGreaterThanOrEqual(opts.floor);
  });

  it("samples distinct ids, in proportion to weight", () => {
    const rand = mulberry32(11);
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 4000; i++) {
      const [id] = sampleWithoutReplacement(
        [
          { id: "a", weight: 3 },
          { id: "b", weight: 1 },
        ],
        1,
        rand,
      );
      counts[id as "a" | "b"]++;
    }
    expect(counts.a / 4000).toBeGreaterThan(0.7);
    expect(counts.a / 4000).toBeLessThan(0.8);
    const many = sampleUniform(
      Array.from({ length: 50 }, (_, i) => `p${i}`),
      20,
      mulberry32(3),
    );
    expect(new Set(many).size).toBe(20);
  });

  it("curriculum sampling prefers prompts that split their groups", () => {
    const stats = new Map<string, ReturnType<typeof newPromptStats>>();
    for (let i = 0; i < 50; i++) stats.set(`easy${i}`, observePrompt(newPromptStats(0), 0, Array(8).fill(1)));
    for (let i = 0; i < 50; i++)
      stats.set(`mid${i}`, observePrompt(newPromptStats(0.5), 0, [1, 0, 1, 0, 1, 0, 1, 0]));
    const picked = sampleCurriculum(stats, 20, 0, mulberry32(5));
    expect(picked.filter((id) => id.startsWith("mid")).length).toBeGreaterThanOrEqual(17);
  });
});
