/**
 * Issue 21's example, end to end through the CLI: `glmv data example` on the generated sample catches every planted
 * case (copies, solid colours, QR-code ads, thumbnails, empty captions, the ad printed in the PDF, hidden and
 * covered controls) and writes a report per pipeline; killed with SIGKILL in the middle of the pairs pipeline and
 * rerun into the same folder, it finishes with the same output bytes as an uninterrupted run.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ExampleCheck } from "../../src/curate/sample/example.ts";
import { runGlmv } from "../helpers/spawn-glmv.ts";
import { folderBytes, killGlmvWhen, tempDir } from "./helpers/pipelines.ts";

const PAIRS = "56"; // 84 pairs with the planted ones: two shards of the pairs pipeline

/** Once the pairs pipeline has finished at least one shard of one stage under `out`. */
const pairsStarted = (out: string) => {
  const level = join(out, "pairs", "shards", "02-low-information");
  return existsSync(level) && readdirSync(level).some((f) => f.endsWith(".json"));
};

const outputs = (out: string) =>
  Object.fromEntries(["pairs", "pdf", "gui"].map((p) => [p, folderBytes(join(out, p, "output"))]));

describe("glmv data example", () => {
  it("catches every planted case, and a run killed mid-way then rerun gives the same outputs", async () => {
    const dir = tempDir();
    const clean = join(dir, "clean");
    const run = await runGlmv(["data", "example", "--out", clean, "--pairs", PAIRS], {
      killAfterMs: 300_000,
    });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const check = JSON.parse(readFileSync(join(clean, "check.json"), "utf8")) as ExampleCheck;
    expect(check.ok).toBe(true);
    for (const row of check.pairs) expect(row, row.kind).toMatchObject({ missed: [] });
    expect(run.stdout).toMatch(/nearDuplicate\s+\d+\/\d+\s+caught/);
    for (const p of ["pairs", "pdf", "gui"]) expect(existsSync(join(clean, p, "report.html"))).toBe(true);

    const killed = join(dir, "killed");
    await killGlmvWhen(["data", "example", "--out", killed, "--pairs", PAIRS], () => pairsStarted(killed));
    expect(existsSync(join(killed, "check.json"))).toBe(false);
    const rerun = await runGlmv(["data", "example", "--out", killed, "--pairs", PAIRS], {
      killAfterMs: 300_000,
    });
    expect(rerun.code).toBe(0);
    expect(outputs(killed)).toEqual(outputs(clean));
  }, 600_000);
});
