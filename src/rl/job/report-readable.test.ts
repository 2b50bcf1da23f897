// Issue 16 item 13: a person can read report.html (labelled summary, titled axes, heat-map scale, visible reward
// line, continued-SFT control plotted).
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { metricsAt } from "../loop/metrics.fixture.ts";
import { renderReport } from "./report.ts";
import type { Summary } from "./summary.ts";

/** A summary.json as `glmv rl --compare` writes it (typed, so a new Summary key must be added here). */
const summary: Summary = {
  sft: {
    accuracy: 0.5,
    sampledAccuracy: 0.45,
    perFamily: { counting: 0.5, clock: 0.25 },
    perLevel: { "1": 0.75, "2": 0.25 },
    seconds: 9.87654,
  },
  offline: { difficulty: "level", seconds: null },
  rl: {
    sampler: "rlcs",
    accuracy: 0.625,
    sampledAccuracy: 0.6,
    perFamily: { counting: 0.75, clock: 0.5 },
    perLevel: { "1": 1, "2": 0.5 },
    steps: 30,
    seconds: 123.456,
    signalShare: 0.8333333,
    sampledSignalRate: 0.61234,
    tokensPerSec: 1523.678,
    balance: 1.0123,
    fill: 0.91234,
    rolloutsTotal: 4416,
  },
  control: {
    accuracy: 0.55,
    sampledAccuracy: null,
    perFamily: { counting: 0.5, clock: 0.375 },
    perLevel: { "1": 0.75, "2": 0.375 },
    steps: 412,
  },
  heldoutItems: 512,
  wallSeconds: 300,
  warnings: ["RL had no <signal> in 30 steps"],
};
/** Every key of the summary, a group's fields by their own name and as `group.field`. */
const summaryKeys = Object.entries(summary).flatMap(([k, v]) =>
  typeof v === "object" && v !== null && !Array.isArray(v)
    ? [k, ...Object.keys(v).flatMap((f) => [f, `${k}.${f}`])]
    : [k],
);
const compare = {
  target: 0.6,
  rlcsRollouts: 4416,
  uniformRollouts: 11528,
  ratio: 0.383,
  rlcsFinalAccuracy: 0.625,
  uniformFinalAccuracy: 0.6,
};

const metrics = Array.from({ length: 10 }, (_, i) => metricsAt(i + 1));
const page = renderReport({
  title: "glmv rl (rlcs)",
  summary: { ...summary, compare },
  metrics,
  control: { name: "uniform", metrics },
  sftAccuracy: 0.5,
  rollouts: [],
});
/** The part of the page above the charts: the summary tables. */
const summaryPart = page.slice(page.indexOf("<h1>"), page.indexOf("<h2>Curves"));
const charts = [...page.matchAll(/<svg class="chart[\s\S]*?<\/svg>/g)].map((m) => m[0]);
const figure = (caption: string): string =>
  page.split("<figure").find((f) => f.includes(caption)) ?? `(no figure "${caption}")`;
/** An inline SVG as a file of its own (HTML does not need the namespace, an SVG renderer does). */
const standalone = (svg: string): string =>
  svg.includes("xmlns=") ? svg : svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ');
/** A table row's cells as text, found by its label. */
const row = (html: string, label: string): string[] | undefined => {
  const tr = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].find((m) =>
    m[1]!.replace(/<[^>]+>/g, "").startsWith(label),
  );
  return (
    tr && [...tr[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, ""))
  );
};

describe("report.html summary table", () => {
  it("labels every summary key in words, never the raw key", () => {
    expect(row(summaryPart, "Held-out accuracy after SFT")).toEqual(["Held-out accuracy after SFT", "50.0%"]);
    expect(row(summaryPart, "Wall time (s)")).toEqual(["Wall time (s)", "300"]);
    for (const key of [...summaryKeys, "compare"])
      expect(summaryPart, key).not.toMatch(new RegExp(`>${key}<`));
    // a figure no label knows yet still reads as words, under its phase
    const unknown = renderReport({
      title: "t",
      summary: { ...summary, rl: { ...summary.rl, newFigure: 0.5 } },
      metrics,
      rollouts: [],
    });
    expect(row(unknown, "RL: new figure")).toEqual(["RL: new figure", "0.5"]);
  });

  it("prints integers as integers and fractions with sensible precision", () => {
    expect(row(summaryPart, "RL steps")).toEqual(["RL steps", "30"]);
    expect(row(summaryPart, "Rollouts generated")).toEqual(["Rollouts generated", "4,416"]);
    expect(row(summaryPart, "RL wall time (s)")).toEqual(["RL wall time (s)", "123"]);
    expect(row(summaryPart, "SFT wall time (s)")).toEqual(["SFT wall time (s)", "9.88"]);
    expect(row(summaryPart, "Generation throughput (tokens/s)")?.[1]).toBe("1,524");
    expect(summaryPart).not.toMatch(/\d\.00</); // no 30.00-style integers
  });

  it("renders nested values as their own tables, not JSON", () => {
    expect(summaryPart).not.toMatch(/[{}]|&quot;|\[object Object\]/);
    // per family: one row per family, a column per checkpoint
    expect(row(summaryPart, "clock")).toEqual(["clock", "25.0%", "50.0%", "37.5%"]);
    expect(row(summaryPart, "level 2")).toEqual(["level 2", "25.0%", "50.0%", "37.5%"]);
    // the --compare result as labelled rows
    expect(row(summaryPart, "Rollouts RLCS needed to reach it")?.[1]).toBe("4,416");
    expect(row(summaryPart, "Rollouts uniform sampling generated")?.[1]).toBe("11,528");
  });

  it("lists the run's warnings above the tables", () => {
    expect(summaryPart).toMatch(
      /<ul class="warnings"><li>warning: RL had no &lt;signal&gt; in 30 steps<\/li><\/ul><table/,
    );
  });

  it("says why a figure is missing instead of printing null", () => {
    expect(summaryPart).not.toMatch(/>null</);
    expect(row(summaryPart, "Offline difficulty scoring time (s)")?.[1]).toMatch(/^—/);
    expect(row(summaryPart, "Held-out accuracy after continued SFT, sampled")?.[1]).toBe("— (not measured)");
    // a control that did not run: its rows say so, and the breakdowns have no column for it
    const off = renderReport({ title: "t", summary: { ...summary, control: null }, metrics, rollouts: [] });
    for (const label of [
      "Held-out accuracy after continued SFT (control, same wall time as RL)",
      "Held-out accuracy after continued SFT, sampled at the rollout temperature",
      "Continued-SFT steps (control)",
    ])
      expect(row(off, label)).toEqual([label, "— (control off)"]);
    expect(row(off, "clock")).toEqual(["clock", "25.0%", "50.0%"]);
    expect(off).not.toMatch(/>null</);
  });
});

describe("report.html charts", () => {
  it("gives every chart an x and a y axis title", () => {
    expect(charts).toHaveLength(6);
    for (const svg of charts) {
      expect(svg).toMatch(/class="axis-title x"[^>]*>[^<]+</);
      expect(svg).toMatch(/class="axis-title y"[^>]*>[^<]+</);
    }
    expect(figure("Held-out accuracy by rollouts")).toMatch(/class="axis-title x"[^>]*>rollouts generated/);
    // tick labels: steps are integers
    expect(figure("Training reward and accuracy")).not.toMatch(/>\d+\.00</);
  });

  it("gives the difficulty heat map a colour scale with its min and max", () => {
    const heat = figure("Difficulty histogram");
    const scale = /<g class="color-scale"[\s\S]*?<\/g>/.exec(heat)?.[0] ?? "";
    expect(scale).toMatch(/>1</); // the fewest prompts in one bin at one step
    expect(scale).toMatch(/>10</); // the most
    // the scale's dark end is the colour of the fullest cell (step 10, top bin: 10 prompts)
    const fullest = /<rect[^>]*fill="([^"]+)"><title>step 10, pass rate 0\.9–1: 10 prompts<\/title>/.exec(
      heat,
    )?.[1];
    const swatches = [...scale.matchAll(/<rect[^>]*fill="([^"]+)"/g)]
      .map((m) => m[1])
      .filter((f) => f !== "none");
    expect(fullest).toBeDefined();
    expect(swatches.at(-1)).toBe(fullest);
  });

  it("keeps the reward line visible where it coincides with accuracy", async () => {
    const training = charts.find((c) => c.includes("reward"))!;
    const rewardGreen = [0x1e, 0x84, 0x49];
    // rasterise the plot without its text (legend, labels): only the lines and markers remain
    const svg = standalone(training.replace(/<text[\s\S]*?<\/text>/g, ""));
    const { data } = await sharp(Buffer.from(svg)).flatten({ background: "#ffffff" }).raw().toBuffer({
      resolveWithObject: true,
    });
    let green = 0;
    for (let i = 0; i < data.length; i += 3)
      if (rewardGreen.every((c, k) => Math.abs(data[i + k]! - c) < 40)) green++;
    expect(green).toBeGreaterThan(100);
    // and the legend tells the two apart
    expect(training).toMatch(/<g class="legend"[\s\S]*reward[\s\S]*<\/g>/);
    expect(training).toMatch(/<g class="legend"[\s\S]*accuracy[\s\S]*<\/g>/);
  });

  it("plots the continued-SFT control next to RL's held-out accuracy", () => {
    for (const caption of ["Held-out accuracy by step", "Held-out accuracy by rollouts"]) {
      const fig = figure(caption);
      expect(fig).toMatch(/<g class="legend"[\s\S]*continued SFT/);
      expect(fig).toContain("<title>continued SFT (control), same wall time as RL: 55.0%</title>");
    }
    // without a control (control: false) nothing is drawn for it
    const off = renderReport({
      title: "t",
      summary: { ...summary, control: null },
      metrics,
      rollouts: [],
    });
    expect(off).not.toContain("continued SFT (control), same wall time");
    // an explicit figure wins over the summary's
    const explicit = renderReport({
      title: "t",
      summary: {},
      metrics,
      rollouts: [],
      continuedSft: { accuracy: 0.5 },
    });
    expect(explicit).toContain("<title>continued SFT (control), same wall time as RL: 50.0%</title>");
  });

  it("draws a run with no steps yet, or a flat ratio EMA, without NaN or infinite coordinates", async () => {
    const flat = metrics.map((m) => ({ ...m, ratioEma: 1 }));
    for (const ms of [[], flat]) {
      const html = renderReport({ title: "t", summary: {}, metrics: ms, rollouts: [] });
      expect(html).not.toMatch(/NaN|Infinity|e-\d/);
    }
  });

  it("draws every chart as SVG a renderer accepts", async () => {
    for (const svg of charts)
      await expect(
        sharp(Buffer.from(standalone(svg)))
          .png()
          .toBuffer(),
      ).resolves.toBeInstanceOf(Buffer);
  });
});
