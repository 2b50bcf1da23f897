/**
 * examples/openrlhf: its unittest suite (OpenRLHF's remote reward client reproduced: no token, `POST /get_reward`)
 * run by the system Python against a real `glmv serve reward` child process (special tokens kept, as OpenRLHF). The
 * restart test starts its own server from the command passed in the environment, stops it and starts it again on
 * the same port while the client retries.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasPython, PYTHON, runUnittest } from "./helpers/python-unittest.ts";
import { GLMV_BIN, type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";

describe.skipIf(!hasPython)(`examples/openrlhf under ${PYTHON}`, () => {
  let glmv: SpawnedServer;
  beforeAll(async () => {
    glmv = await spawnGlmvServer(["serve", "reward", "--port", "0", "--workers", "1"]);
  });
  afterAll(() => {
    glmv?.child.kill();
  });

  it("examples/openrlhf/tests pass against glmv serve reward, none skipped", async () => {
    const restartable = [process.execPath, GLMV_BIN, "serve", "reward", "--workers", "1"];
    const run = await runUnittest("openrlhf", {
      GLMV_REWARD_URL: glmv.url,
      GLMV_TEST_REWARD_CMD: JSON.stringify(restartable),
    });
    expect(run.output).toMatch(/\nOK\b/);
    expect(run).toMatchObject({ code: 0, skipped: 0 });
    expect(run.ran).toBeGreaterThanOrEqual(7);
  }, 120_000);
});
