/**
 * slime's `--rm-type remote_rm` request, sent by `examples/slime/tests/test_remote_rm.py` (Debian's python3, standard
 * library only) to a real `glmv serve reward` child process, with no token: slime's remote_rm sends no header.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasPython, runPythonUnittest } from "./helpers/python-unittest.ts";
import { type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";

describe.skipIf(!hasPython)("examples/slime remote_rm under python3", () => {
  let glmv: SpawnedServer;
  beforeAll(async () => {
    glmv = await spawnGlmvServer(["serve", "reward", "--port", "0", "--workers", "1"]);
  });
  afterAll(() => {
    glmv?.child.kill();
  });

  it("scores right and wrong answers through --reward-key reward, and a malformed label is a 400", async () => {
    const { code, output } = await runPythonUnittest(
      ["discover", "-v", "-s", "examples/slime/tests", "-p", "test_remote_rm.py"],
      { GLMV_RM_URL: `${glmv.url}/get_reward` },
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/Ran 5 tests/);
    expect(output).not.toMatch(/skipped/);
  }, 60_000);
});
