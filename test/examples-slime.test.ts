/**
 * The slime plug-ins in `examples/slime/glmv_slime` run by the system Python (`examples/slime/tests/test_plugin.py`,
 * unittest) against real `glmv serve reward` and `glmv serve curriculum` child processes; the Python test restarts
 * its own curriculum servers (`tests/test_restart.py`; the command, less `--port`, is passed in the environment) to
 * stop and restart them on the same port and SQLite file mid-run, and puts a reply-dropping proxy in front of one.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GLMV_BIN, type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";

const PYTHON = "/usr/bin/python3";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TOKEN = "slime-secret";
const PROMPTS = [1, 2, 3]
  .map((n) =>
    JSON.stringify({
      id: `p${n}`,
      prompt: `How many dots? ${".".repeat(n)}`,
      domain: "counting",
      answer: `${n}`,
    }),
  )
  .join("\n");
const hasPython = existsSync(PYTHON);

function runUnittest(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(PYTHON, ["-m", "unittest", "-v", "tests.test_plugin", "tests.test_restart"], {
    cwd: join(ROOT, "examples/slime"),
    env: { PATH: process.env.PATH ?? "", PYTHONDONTWRITEBYTECODE: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe.skipIf(!hasPython)(`examples/slime plug-ins under ${PYTHON}`, () => {
  let reward: SpawnedServer;
  let curriculum: SpawnedServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "glmv-slime-"));
    const prompts = join(dir, "prompts.jsonl");
    writeFileSync(prompts, PROMPTS);
    [reward, curriculum] = await Promise.all([
      spawnGlmvServer(["serve", "reward", "--port", "0", "--token", TOKEN, "--workers", "1"]),
      spawnGlmvServer([
        "serve",
        "curriculum",
        "--port",
        "0",
        "--token",
        TOKEN,
        "--db",
        join(dir, "shared.sqlite"),
        "--prompts",
        prompts,
      ]),
    ]);
  });
  afterAll(() => {
    reward?.child.kill();
    curriculum?.child.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the unittest modules pass: group rewards, timeout, filter, data source, force-answer, restarts, a lost reply", async () => {
    const restartCmd = [
      process.execPath,
      GLMV_BIN,
      "serve",
      "curriculum",
      "--token",
      TOKEN,
      "--db",
      join(dir, "restart.sqlite"),
      "--prompts",
      join(dir, "prompts.jsonl"),
    ];
    const { code, output } = await runUnittest({
      GLMV_REWARD_URL: reward.url,
      GLMV_CURRICULUM_URL: curriculum.url,
      GLMV_SERVE_TOKEN: TOKEN,
      GLMV_TEST_CURRICULUM_CMD: JSON.stringify(restartCmd),
    });
    expect(output).not.toMatch(/skipped/);
    expect(output).toMatch(/Ran 11 tests/);
    expect(code, output).toBe(0);
  }, 120_000);
});
