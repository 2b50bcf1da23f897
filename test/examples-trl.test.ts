/**
 * examples/trl: its unittest suite (GRPOTrainer's reward step reproduced: dataset columns as keyword arguments,
 * conversational and image rows, async reward functions, log_extra/log_metric; stubs for failures) run by the system
 * Python against a real `glmv serve reward` child process, with special tokens stripped as TRL decodes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasPython, PYTHON, runUnittest } from "./helpers/python-unittest.ts";
import { type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";

const TOKEN = "trl-secret";

describe.skipIf(!hasPython)(`examples/trl under ${PYTHON}`, () => {
  let glmv: SpawnedServer;
  beforeAll(async () => {
    glmv = await spawnGlmvServer([
      "serve",
      "reward",
      "--port",
      "0",
      "--token",
      TOKEN,
      "--workers",
      "1",
      "--special-tokens",
      "stripped",
    ]);
  });
  afterAll(() => {
    glmv?.child.kill();
  });

  it("examples/trl/tests pass against glmv serve reward, none skipped", async () => {
    const run = await runUnittest("trl", { GLMV_REWARD_URL: glmv.url, GLMV_SERVE_TOKEN: TOKEN });
    expect(run.output).toMatch(/\nOK\b/);
    expect(run).toMatchObject({ code: 0, skipped: 0 });
    expect(run.ran).toBeGreaterThanOrEqual(9);
  }, 60_000);
});
