import { describe, expect, it } from "vitest";
import { buildSuite } from "../../data/tasks/index.ts";
import { metricsAt } from "../loop/metrics.fixture.ts";
import type { RolloutRecord } from "../loop/trainer.ts";
import { escapeHtml, expertLoadChart, renderReport, reportRollouts } from "./report.ts";

describe("renderReport", () => {
  it("is one self-contained page with the charts and sample rollouts (image, thinking, answer, breakdown)", async () => {
    const items = buildSuite({ seed: 1, perFamily: 2, split: "train", families: ["counting"] });
    const item = items[0]!;
    const record = (correct: boolean): RolloutRecord => ({
      step: 3,
      round: 0,
      promptId: item.id,
      family: item.family,
      level: item.level,
      text: `<think>four dots</think><answer><|begin_of_box|>${correct ? item.answer : "x<y"}<|end_of_box|></answer>`,
      tokens: 9,
      injected: 0,
      reward: correct ? 1 : 0,
      trained: true,
      result: {
        reward: correct ? 1 : 0,
        correct,
        format: "ok",
        extracted: correct ? item.answer : "x<y",
        timedOut: false,
        reason: "compared",
        stage: "verify",
      },
    });
    const rollouts = await reportRollouts(
      [record(true), record(false)],
      new Map(items.map((i) => [i.id, i])),
    );
    expect(rollouts).toHaveLength(2);
    expect(rollouts[0]!.imagePng).toMatch(/^iVBORw0KGgo/); // base64 of the PNG signature
    const metrics = Array.from({ length: 10 }, (_, i) => metricsAt(i + 1));
    const html = renderReport({
      title: "glmv rl",
      summary: { sft: { accuracy: 0.5 }, rl: { accuracy: 0.62 } },
      metrics,
      control: { name: "uniform", metrics },
      sftAccuracy: 0.5,
      rollouts,
    });
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.match(/<svg class="chart/g)).toHaveLength(6);
    expect(html).toContain("Difficulty histogram over time");
    expect(html).toContain("Effective batch");
    expect(html).toContain("data:image/png;base64,iVBOR");
    expect(html).toContain("four dots");
    expect(html).toContain("x&lt;y"); // escaped answer text
    expect(html).toContain("stage verify");
    // no external assets
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    // the held-out curve has one point per evaluation (steps 5 and 10)
    const heldoutFigure = html.split("<figure>").find((f) => f.includes("Held-out accuracy by step"))!;
    expect(heldoutFigure.match(/class="pt"/g)).toHaveLength(2);
  });

  it("draws a max/mean expert-load chart per MoE layer only when the steps carry expertLoad", () => {
    const dense = Array.from({ length: 3 }, (_, i) => metricsAt(i + 1));
    expect(expertLoadChart(dense)).toEqual([]);
    const moe = dense.map((m, i) => ({
      ...m,
      expertLoad: [
        { layer: 1, maxOverMean: 2 - i / 4 },
        { layer: 2, maxOverMean: 3 - i / 2 },
      ],
    }));
    const [chart] = expertLoadChart(moe);
    const legend = /<g class="legend">[\s\S]*?<\/g>/.exec(chart!)![0];
    expect(legend).toContain(">layer 1<");
    expect(legend).toContain(">layer 2<");
    expect(chart!.match(/<polyline/g)).toHaveLength(2);
    expect(chart!.match(/class="pt"/g)).toHaveLength(6); // a marker per layer and step
    expect(chart).toMatch(/class="axis-title y"[^>]*>max \/ mean expert load</);
    const html = renderReport({ title: "moe", summary: {}, metrics: moe, rollouts: [] });
    expect(html.match(/<svg class="chart/g)).toHaveLength(7);
    expect(html).toContain("Expert load per MoE layer");
  });

  it("escapes HTML", () => {
    expect(escapeHtml(`<b a="1">&'`)).toBe("&lt;b a=&quot;1&quot;&gt;&amp;&#39;");
  });
});
