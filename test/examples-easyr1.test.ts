/**
 * examples/easyr1: its unittest suite (EasyR1's batch reward manager reproduced, stubs for failures) run by the
 * system Python against a real `glmv serve reward` child process.
 */
import { describeRewardExample } from "./helpers/python-unittest.ts";

describeRewardExample("easyr1", { token: "easyr1-secret", minTests: 9 });
