/**
 * examples/trl: its unittest suite (GRPOTrainer's reward step reproduced: dataset columns as keyword arguments,
 * conversational and image rows, async reward functions, log_extra/log_metric; stubs for failures) run by the system
 * Python against a real `glmv serve reward` child process, with special tokens stripped as TRL decodes.
 */
import { describeRewardExample } from "./helpers/python-unittest.ts";

describeRewardExample("trl", {
  token: "trl-secret",
  serveArgs: ["--special-tokens", "stripped"],
  minTests: 9,
  timeoutMs: 60_000,
});
