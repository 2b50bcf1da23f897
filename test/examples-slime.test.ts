/**
 * The slime plug-ins in `examples/slime/glmv_slime` run by the system Python (`examples/slime/tests/test_plugin.py`,
 * unittest) against real `glmv serve reward` and `glmv serve curriculum` child processes; the Python test restarts
 * its own curriculum servers (`tests/test_restart.py`; the command, less `--port`, is passed in the environment) to
 * stop and restart them on the same port and SQLite file mid-run, and puts a reply-dropping proxy in front of one.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasPython, PYTHON, ROOT, runPythonUnittest } from "./helpers/python-unittest.ts";
import { GLMV_BIN, type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";

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
    const env = {
      PYTHONDONTWRITEBYTECODE: "1",
      GLMV_REWARD_URL: reward.url,
      GLMV_CURRICULUM_URL: curriculum.url,
      GLMV_SERVE_TOKEN: TOKEN,
      GLMV_TEST_CURRICULUM_CMD: JSON.stringify(restartCmd),
    };
    const tests = ["-v", "tests.test_plugin", "tests.test_restart"];
    const { code, output } = await runPythonUnittest(tests, env, join(ROOT, "examples/slime"));
    expect(output).not.toMatch(/skipped/);
    expect(output).toMatch(/Ran 11 tests/);
    expect(code, output).toBe(0);
  }, 120_000);
});
