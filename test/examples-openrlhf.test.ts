/**
 * examples/openrlhf: its unittest suite (OpenRLHF's remote reward client reproduced: no token, `POST /get_reward`)
 * run by the system Python against a real `glmv serve reward` child process (special tokens kept, as OpenRLHF). The
 * restart test starts its own server from the command passed in the environment, stops it and starts it again on
 * the same port while the client retries.
 */
import { describeRewardExample } from "./helpers/python-unittest.ts";
import { GLMV_BIN } from "./helpers/spawn-glmv.ts";

describeRewardExample("openrlhf", {
  env: {
    GLMV_TEST_REWARD_CMD: JSON.stringify([process.execPath, GLMV_BIN, "serve", "reward", "--workers", "1"]),
  },
  minTests: 7,
  timeoutMs: 120_000,
});
