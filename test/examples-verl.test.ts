/**
 * examples/verl: its unittest suite (verl's reward managers reproduced: the reward loop's naive and batch managers,
 * the legacy batch manager with numpy-like arrays, stubs for failures) run by the system Python against a real
 * `glmv serve reward` child process, with special tokens stripped as verl decodes.
 */
import { describeRewardExample } from "./helpers/python-unittest.ts";

describeRewardExample("verl", {
  token: "verl-secret",
  serveArgs: ["--special-tokens", "stripped"],
  minTests: 9,
  timeoutMs: 60_000,
});
