import {
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_WORKERS, rewardScoreCommand } from "../../src/cli/reward-score.ts";
import { RewardPool } from "../../src/reward/pool.ts";

const EXAMPLE = new URL("../../examples/reward/items.jsonl", import.meta.url);
const box = (a: string) => `<|begin_of_box|>${a}<|end_of_box|>`;

let dir: string;
let logs: string[];
let errors: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "glmv-reward-score-"));
  logs = [];
  errors = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void logs.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void errors.push(a.join(" ")));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const readJsonl = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("glmv reward score", () => {
  it("scores every line, keeps input fields, reports malformed lines in place", async () => {
    const input = join(dir, "in.jsonl");
    const out = join(dir, "out.jsonl");
    const lines = [
      JSON.stringify({
        id: 1,
        domain: "counting",
        response: `<think>c</think><answer>${box("3")}</answer>`,
        answer: "3",
        extra: "kept",
      }),
      "{not json",
      JSON.stringify({ id: 2, domain: "geography", response: "x", answer: "y" }),
      "",
      JSON.stringify({ id: 3, domain: "counting", answer: "3" }),
      // The item's own style wins over the run's 4.1v.
      JSON.stringify({
        id: 4,
        domain: "counting",
        style: "4.5v",
        response: `<think>c</think>So ${box("3")}`,
        answer: "3",
      }),
      JSON.stringify({ id: 5, domain: "counting", response: `<think>c</think>So ${box("3")}`, answer: "3" }),
    ];
    writeFileSync(input, `${lines.join("\n")}\n`);
    const code = await rewardScoreCommand.run([
      "--in",
      input,
      "--out",
      out,
      "--deadline-ms",
      "3000",
      "--workers",
      "1",
    ]);
    expect(code).toBe(0);
    const rows = readJsonl(out);
    expect(rows).toHaveLength(6);
    expect(rows[0]).toMatchObject({
      id: 1,
      extra: "kept",
      reward: 1,
      correct: true,
      format: "ok",
      extracted: "3",
      timedOut: false,
    });
    expect(rows[1]!.error).toMatch(/line 2: invalid JSON/);
    expect(rows[2]!.error).toMatch(/line 3: field 'domain'/);
    expect(rows[3]!.error).toMatch(/line 5: field 'response'/);
    expect(rows[4]).toMatchObject({ id: 4, reward: 1, correct: true });
    expect(rows[5]).toMatchObject({ id: 5, reward: 0, format: "missing_answer_tags" });
    for (const r of rows) expect(r.reward === 0 || r.reward === 1).toBe(true);
    expect(logs.join("\n")).toMatch(/counting\s+3\s+0\.667\s+66\.7%\s+0\s+1/);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("scores the example file across all domains", async () => {
    const out = join(dir, "scored.jsonl");
    expect(await rewardScoreCommand.run(["--in", EXAMPLE.pathname, "--out", out])).toBe(0);
    const rows = readJsonl(out);
    const input = readFileSync(EXAMPLE, "utf8").trim().split("\n");
    expect(rows).toHaveLength(input.length);
    for (const r of rows) {
      if ("error" in r) continue;
      expect(r.reward).toBeGreaterThanOrEqual(0);
      expect(r.reward).toBeLessThanOrEqual(1);
      expect(typeof r.correct).toBe("boolean");
      expect(typeof r.timedOut).toBe("boolean");
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get("math-3")).toMatchObject({ reward: 0, correct: false });
    expect(byId.get("open-2")).toMatchObject({ reward: 0, penalties: ["spurious_box"] });
    expect(byId.get("bad-1")!.error).toMatch(/domain/);
  });

  it("--help prints usage and exits 0", async () => {
    expect(await rewardScoreCommand.run(["--help"])).toBe(0);
    expect(logs.join("\n")).toMatch(/--deadline-ms/);
  });

  it("bad options exit 2 with a clear message", async () => {
    expect(await rewardScoreCommand.run(["--in", "a", "--out", "b", "--frobnicate"])).toBe(2);
    expect(errors.join("\n")).toMatch(/frobnicate/);
    expect(await rewardScoreCommand.run(["--in", "a"])).toBe(2);
    expect(await rewardScoreCommand.run(["--in", "a", "--out", "b", "--style", "5v"])).toBe(2);
    expect(await rewardScoreCommand.run(["--in", "a", "--out", "b", "--deadline-ms", "-3"])).toBe(2);
  });

  it("exits 2 when the input cannot be read", async () => {
    const missing = join(dir, "missing.jsonl");
    expect(await rewardScoreCommand.run(["--in", missing, "--out", join(dir, "o.jsonl")])).toBe(2);
    expect(errors.join("\n")).toContain(`--in ${missing}`);
  });

  it("checks --out's folder before scoring anything, naming the folder (not a temp file)", async () => {
    const score = vi.spyOn(RewardPool.prototype, "score");
    const input = join(dir, "in.jsonl");
    writeFileSync(input, `${JSON.stringify({ id: 1, domain: "counting", response: "r", answer: "3" })}\n`);
    const folder = join(dir, "no-such-dir");
    const out = join(folder, "o.jsonl");
    expect(await rewardScoreCommand.run(["--in", input, "--out", out, "--workers", "1"])).toBe(2);
    expect(score).not.toHaveBeenCalled();
    expect(errors.join("\n")).toMatch(/--out .*no-such-dir.*does not exist/);
    expect(errors.join("\n")).not.toMatch(/\.tmp/);
    expect(existsSync(out)).toBe(false);
    // a folder given as --out is refused too
    expect(await rewardScoreCommand.run(["--in", input, "--out", dir])).toBe(2);
    expect(errors.join("\n")).toMatch(/is a folder/);
    expect(score).not.toHaveBeenCalled();
  });

  it("refuses --out that is the --in file (same path, another spelling, a symlink or a hard link)", async () => {
    const input = join(dir, "in.jsonl");
    const content = `${JSON.stringify({ id: 1, domain: "counting", response: "r", answer: "3" })}\n`;
    writeFileSync(input, content);
    symlinkSync(input, join(dir, "link.jsonl"));
    linkSync(input, join(dir, "hard.jsonl"));
    const spellings = [input, join(dir, ".", "in.jsonl"), join(dir, "link.jsonl"), join(dir, "hard.jsonl")];
    for (const out of spellings) {
      errors = [];
      expect(await rewardScoreCommand.run(["--in", input, "--out", out, "--workers", "1"]), out).toBe(2);
      expect(errors.join("\n")).toMatch(/same file as --in/);
    }
    expect(readFileSync(input, "utf8")).toBe(content);
  });

  it("exits 2 when no line is valid, still writing every line's error", async () => {
    const input = join(dir, "in.jsonl");
    const out = join(dir, "out.jsonl");
    writeFileSync(input, '{"id": 1}\nnot json\n');
    expect(await rewardScoreCommand.run(["--in", input, "--out", out, "--workers", "1"])).toBe(2);
    const rows = readJsonl(out);
    expect(rows.map((r) => r.error)).toEqual([
      expect.stringMatching(/line 1: field/),
      expect.stringMatching(/line 2: invalid JSON/),
    ]);
    expect(errors.join("\n")).toMatch(/no valid line/);
  });

  it("reads a file that starts with a UTF-8 byte-order mark", async () => {
    const input = join(dir, "in.jsonl");
    const out = join(dir, "out.jsonl");
    const line = JSON.stringify({ id: 1, domain: "counting", response: "r", answer: "3" });
    writeFileSync(input, `\uFEFF${line}\n`);
    expect(await rewardScoreCommand.run(["--in", input, "--out", out, "--workers", "1"])).toBe(0);
    expect(readJsonl(out)[0]).toMatchObject({ id: 1, reward: 0 });
    expect(readJsonl(out)[0]!.error).toBeUndefined();
  });

  it("bounds --workers by this machine, naming the bound", async () => {
    expect(MAX_WORKERS).toBeLessThanOrEqual(64);
    expect(MAX_WORKERS).toBeGreaterThanOrEqual(4);
    for (const n of ["100", String(MAX_WORKERS + 1), "0"]) {
      errors = [];
      expect(await rewardScoreCommand.run(["--in", "a", "--out", "b", "--workers", n])).toBe(2);
      expect(errors.join("\n")).toContain(`--workers must be an integer in [1, ${MAX_WORKERS}]`);
    }
  });

  it("exits 1 when writing the output fails after scoring", async () => {
    const input = join(dir, "in.jsonl");
    writeFileSync(input, `${JSON.stringify({ id: 1, domain: "counting", response: "r", answer: "3" })}\n`);
    const out = join(dir, "out.jsonl");
    vi.spyOn(RewardPool.prototype, "score").mockImplementation(async () => {
      rmSync(dir, { recursive: true, force: true }); // the folder vanishes while scoring
      return [{ reward: 0, correct: false, format: "ok", extracted: null, timedOut: false, stage: "verify" }];
    });
    expect(await rewardScoreCommand.run(["--in", input, "--out", out, "--workers", "1"])).toBe(1);
    expect(errors.join("\n")).toContain(`cannot write --out ${out}`);
  });
});

describe("glmv reward score --judge-config", () => {
  it("asks the configured judge about undecidable text answers", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ choices: [{ message: { content: "1.0" } }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const judgeFile = join(dir, "judge.json");
      writeFileSync(
        judgeFile,
        JSON.stringify({ judges: [{ url: `http://127.0.0.1:${port}/v1/chat/completions`, model: "m" }] }),
      );
      const input = join(dir, "in.jsonl");
      const out = join(dir, "out.jsonl");
      const response = `<think>look</think><answer>${box("the colour of a clear sky")}</answer>`;
      writeFileSync(input, `${JSON.stringify({ id: 1, domain: "text", response, answer: "blue" })}\n`);
      const args = ["--in", input, "--out", out, "--workers", "1", "--judge-config", judgeFile];
      expect(await rewardScoreCommand.run(args)).toBe(0);
      expect(readJsonl(out)[0]).toMatchObject({
        reward: 1,
        correct: true,
        reason: expect.stringMatching(/judge/),
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("an invalid judge config is a clear error, exit 2", async () => {
    const input = join(dir, "in.jsonl");
    writeFileSync(input, "{}\n");
    const judgeFile = join(dir, "judge.json");
    writeFileSync(judgeFile, JSON.stringify({ judges: [] }));
    expect(
      await rewardScoreCommand.run(["--in", input, "--out", join(dir, "o"), "--judge-config", judgeFile]),
    ).toBe(2);
    expect(errors.join("\n")).toMatch(/invalid --judge-config .*judges/);
  });
});
