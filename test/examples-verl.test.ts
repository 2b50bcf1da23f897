/**
 * examples/verl: its unittest suite (verl's reward managers reproduced: the reward loop's naive and batch managers,
 * the legacy batch manager with numpy-like arrays, stubs for failures) run by the system Python against a real
 * `glmv serve reward` child process, with special tokens stripped as verl decodes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasPython, PYTHON, runUnittest } from "./helpers/python-unittest.ts";
import { type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";

const TOKEN = "verl-secret";

describe.skipIf(!hasPython)(`examples/verl under ${PYTHON}`, () => {
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

  it("examples/verl/tests pass against glmv serve reward, none skipped", async () => {
    const run = await runUnittest("verl", { GLMV_REWARD_URL: glmv.url, GLMV_SERVE_TOKEN: TOKEN });
    expect(run.output).toMatch(/\nOK\b/);
    expect(run).toMatchObject({ code: 0, skipped: 0 });
    expect(run.ran).toBeGreaterThanOrEqual(9);
  }, 60_000);
});
