import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CurriculumStore, type PromptLine, parsePromptsJsonl } from "./curriculum-store.ts";

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "glmv-cur-"));
  dirs.push(dir);
  return join(dir, "state.sqlite");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const lines = (n: number): PromptLine[] =>
  Array.from({ length: n }, (_, i) => ({ id: `p${i}`, difficulty: i / n, payload: { prompt: `q${i}` } }));

describe("CurriculumStore", () => {
  it("loads prompts once: a second load of the same ids adds nothing and keeps statistics", () => {
    const path = tempDb();
    const store = CurriculumStore.open(path);
    expect(store.loadPrompts(lines(10))).toBe(10);
    store.sample(2);
    store.observe([{ id: "p1", rewards: [1, 0, 1] }]);
    expect(store.loadPrompts(lines(12))).toBe(2);
    expect(store.prompt("p1")).toMatchObject({ rollouts: 3, correct: 2, groups: 1 });
    store.close();
  });

  it("samples distinct ids with payloads and advances the step", () => {
    const store = CurriculumStore.open(tempDb());
    store.loadPrompts(lines(20));
    const a = store.sample(8);
    const b = store.sample(8);
    expect(a.step).toBe(1);
    expect(b.step).toBe(2);
    expect(new Set(a.prompts.map((p) => p.id)).size).toBe(8);
    expect(a.prompts[0]).toHaveProperty("prompt");
    expect(store.sample(50).prompts).toHaveLength(20);
    store.close();
  });

  it("moves sampling away from prompts that are always solved", () => {
    const store = CurriculumStore.open(tempDb(), { seed: 1 });
    store.loadPrompts(lines(40).map((l) => ({ ...l, difficulty: 0.5 })));
    const easy = new Set(lines(20).map((l) => l.id));
    for (let k = 0; k < 5; k++) {
      store.sample(40);
      store.observe(
        lines(40).map((l) => ({
          id: l.id,
          rewards: easy.has(l.id) ? [1, 1, 1, 1, 1, 1, 1, 1] : [1, 0, 1, 0, 0, 1, 0, 1],
        })),
      );
    }
    let easyDrawn = 0;
    for (let k = 0; k < 5; k++)
      easyDrawn += store.sample(10).prompts.filter((p) => easy.has(String(p.id))).length;
    expect(easyDrawn).toBeLessThan(12); // of 50 draws; uniform would give ~25
    store.close();
  });

  it("folds each observe call's invalid-group rate into the ratio-EMA and hints nextN", () => {
    const store = CurriculumStore.open(tempDb());
    store.loadPrompts(lines(4));
    store.sample(4);
    const r = store.observe([
      { id: "p0", rewards: [1, 1] },
      { id: "p1", rewards: [0, 0] },
      { id: "p2", rewards: [1, 0] },
      { id: "p3", rewards: [0.5, 0.5] },
    ]);
    expect(r.invalidRate).toBe(0.75);
    expect(r.ratioEma).toBe(4); // 1 / (1 − 0.75), the first observation replaces the initial 1
    expect(store.sample(4).nextN).toBe(16);
    store.close();
  });

  it("rejects unknown ids without changing anything, and ignores a repeated requestId", () => {
    const store = CurriculumStore.open(tempDb());
    store.loadPrompts(lines(3));
    expect(() =>
      store.observe([
        { id: "p0", rewards: [1] },
        { id: "nope", rewards: [1] },
      ]),
    ).toThrow(/results\.1\.id/);
    expect(store.summary().observedGroups).toBe(0);
    expect(store.observe([{ id: "p0", rewards: [1, 0] }], "req-1").duplicate).toBe(false);
    expect(store.observe([{ id: "p0", rewards: [1, 0] }], "req-1").duplicate).toBe(true);
    expect(store.summary()).toMatchObject({ observedGroups: 1, observedRollouts: 2, observeCalls: 1 });
    store.close();
  });

  it("survives a reopen with statistics, step and EMA intact", () => {
    const path = tempDb();
    const a = CurriculumStore.open(path);
    a.loadPrompts(lines(5));
    a.sample(3);
    a.observe([{ id: "p2", rewards: [1, 0, 0] }]);
    const before = a.summary();
    const p2 = a.prompt("p2");
    a.close();
    const b = CurriculumStore.open(path);
    expect(b.summary()).toEqual(before);
    expect(b.prompt("p2")).toEqual(p2);
    b.close();
  });

  it("refuses a second opener of the same file while the first holds it, and lets it in after close", () => {
    const path = tempDb();
    const a = CurriculumStore.open(path);
    a.loadPrompts(lines(3));
    expect(() => CurriculumStore.open(path)).toThrow(/in use by another process/);
    expect(a.sample(1).step).toBe(1); // the owner is unaffected
    a.close();
    const b = CurriculumStore.open(path);
    expect(b.sample(1).step).toBe(2);
    b.close();
  });
});

describe("parsePromptsJsonl", () => {
  it("keeps the payload, stringifies ids and names bad lines", () => {
    const parsed = parsePromptsJsonl('{"id":1,"messages":[{"role":"user"}],"difficulty":0.3}\n\n{"id":"b"}');
    expect(parsed).toEqual([
      { id: "1", difficulty: 0.3, payload: { messages: [{ role: "user" }] } },
      { id: "b", difficulty: undefined, payload: {} },
    ]);
    expect(() => parsePromptsJsonl('{"id":1}\n{"prompt":"x"}', "p.jsonl")).toThrow(/p\.jsonl:2\.id/);
    expect(() => parsePromptsJsonl('{"id":1,"difficulty":2}')).toThrow(/difficulty/);
    expect(() => parsePromptsJsonl("{oops")).toThrow(/prompts:1/);
  });

  it('refuses a duplicate id, naming it and both lines (1 and "1" are one id)', () => {
    const text = '{"id":"a"}\n{"id":1}\n\n{"id":"b"}\n{"id":"1","prompt":"again"}';
    expect(() => parsePromptsJsonl(text, "p.jsonl")).toThrow(
      /duplicate prompt id '1' on lines 2 and 5 .*p\.jsonl:5\.id/,
    );
  });
});
