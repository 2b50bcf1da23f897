/**
 * slime's `--rm-type remote_rm` request, sent by `examples/slime/tests/test_remote_rm.py` (Debian's python3, standard
 * library only) to a real `glmv serve reward` child process, with no token: slime's remote_rm sends no header.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";

const PYTHON = "/usr/bin/python3";
const ROOT = fileURLToPath(new URL("..", import.meta.url));

function runUnittest(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    PYTHON,
    ["-m", "unittest", "discover", "-v", "-s", "examples/slime/tests", "-p", "test_remote_rm.py"],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe.skipIf(!existsSync(PYTHON))("examples/slime remote_rm under python3", () => {
  let glmv: SpawnedServer;
  beforeAll(async () => {
    glmv = await spawnGlmvServer(["serve", "reward", "--port", "0", "--workers", "1"]);
  });
  afterAll(() => {
    glmv?.child.kill();
  });

  it("scores right and wrong answers through --reward-key reward, and a malformed label is a 400", async () => {
    const { code, output } = await runUnittest({ GLMV_RM_URL: `${glmv.url}/get_reward` });
    expect(code, output).toBe(0);
    expect(output).toMatch(/Ran 5 tests/);
    expect(output).not.toMatch(/skipped/);
  }, 60_000);
});
