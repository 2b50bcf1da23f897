import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { spawnGlmvServer } from "../../test/helpers/spawn-glmv.ts";

const BIN = new URL("../../bin/glmv.js", import.meta.url).pathname;

/** Run `glmv <args>` to completion; resolves with the exit code and stderr. */
function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += String(d);
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
}

describe("glmv serve", () => {
  it("refuses to bind a non-loopback address without a token (exit 2)", async () => {
    const { code, stderr } = await run(["serve", "reward", "--host", "0.0.0.0"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/refusing to bind 0\.0\.0\.0 without --token/);
  });

  it("rejects unknown option values with the usage (exit 2)", async () => {
    const mode = await run(["serve", "reward", "--special-tokens", "some"]);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(/--special-tokens must be one of kept, stripped/);
    const port = await run(["serve", "curriculum", "--port", "-1"]);
    expect(port.code).toBe(2);
  });

  it("serves, then shuts down cleanly on SIGTERM (exit 0)", async () => {
    const { child, url } = await spawnGlmvServer(
      ["serve", "reward", "--port", "0", "--workers", "1"],
      "ignore",
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const health = (await (await fetch(`${url}/healthz`)).json()) as { ok: boolean; workers: number };
    expect(health).toMatchObject({ ok: true, workers: 1 });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 30_000);
});
