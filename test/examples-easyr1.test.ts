/**
 * examples/easyr1: its unittest suite (EasyR1's batch reward manager reproduced, stubs for failures) run by the
 * system Python against a real `glmv serve reward` child process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasPython, PYTHON, runUnittest } from "./helpers/python-unittest.ts";
import { type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";

const TOKEN = "easyr1-secret";

describe.skipIf(!hasPython)(`examples/easyr1 under ${PYTHON}`, () => {
  let glmv: SpawnedServer;
  beforeAll(async () => {
    glmv = await spawnGlmvServer(["serve", "reward", "--port", "0", "--token", TOKEN, "--workers", "1"]);
  });
  afterAll(() => {
    glmv?.child.kill();
  });

  it("examples/easyr1/tests pass against glmv serve reward, none skipped", async () => {
    const run = await runUnittest("easyr1", { GLMV_REWARD_URL: glmv.url, GLMV_SERVE_TOKEN: TOKEN });
    expect(run.output).toMatch(/\nOK\b/);
    expect(run).toMatchObject({ code: 0, skipped: 0 });
    expect(run.ran).toBeGreaterThanOrEqual(9);
  });
});
