/**
 * Test helper: run an example's `unittest` suite (`examples/<engine>/tests/`) with the system Python against servers
 * the vitest test started, so `npm test` covers the Python clients. Standard library only on the Python side.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SpawnedServer, spawnGlmvServer } from "./spawn-glmv.ts";

export const PYTHON = "/usr/bin/python3";
export const hasPython = existsSync(PYTHON);
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type UnittestRun = { code: number | null; output: string; ran: number; skipped: number };

/** `python3 -m unittest <args>` in `cwd` (the repository root unless given) with `env` (plus PATH) and its tally. */
export function runPythonUnittest(
  args: string[],
  env: Record<string, string>,
  cwd: string = ROOT,
): Promise<UnittestRun> {
  const child = spawn(PYTHON, ["-m", "unittest", ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const ran = Number(/Ran (\d+) tests?/.exec(output)?.[1] ?? 0);
      const skipped = Number(/skipped=(\d+)/.exec(output)?.[1] ?? 0);
      resolve({ code, output, ran, skipped });
    });
  });
}

/** `python3 -m unittest discover -s examples/<engine>/tests -v` with `env` (plus PATH) and its tally. */
export function runUnittest(engine: string, env: Record<string, string>): Promise<UnittestRun> {
  return runPythonUnittest(["discover", "-s", `examples/${engine}/tests`, "-v"], env);
}

export type RewardExampleOptions = {
  /** `--token` for the server, passed to the suite as GLMV_SERVE_TOKEN; none: the engine sends no header. */
  token?: string;
  /** Flags after `serve reward --port 0 [--token T] --workers 1`, e.g. `--special-tokens stripped`. */
  serveArgs?: string[];
  /** More environment for the suite beyond GLMV_REWARD_URL (and GLMV_SERVE_TOKEN). */
  env?: Record<string, string>;
  /** The suite must run at least this many tests, so a module that stops being discovered fails. */
  minTests: number;
  timeoutMs?: number;
};

/**
 * The vitest block for one engine's reward client: a real `glmv serve reward` child process for the whole block,
 * and `examples/<engine>/tests` run against it, expected to pass with none skipped.
 */
export function describeRewardExample(engine: string, options: RewardExampleOptions): void {
  const token = options.token ? ["--token", options.token] : [];
  describe.skipIf(!hasPython)(`examples/${engine} under ${PYTHON}`, () => {
    let glmv: SpawnedServer;
    beforeAll(async () => {
      glmv = await spawnGlmvServer([
        "serve",
        "reward",
        "--port",
        "0",
        ...token,
        "--workers",
        "1",
        ...(options.serveArgs ?? []),
      ]);
    });
    afterAll(() => {
      glmv?.child.kill();
    });

    it(
      `examples/${engine}/tests pass against glmv serve reward, none skipped`,
      async () => {
        const run = await runUnittest(engine, {
          GLMV_REWARD_URL: glmv.url,
          ...(options.token ? { GLMV_SERVE_TOKEN: options.token } : {}),
          ...options.env,
        });
        expect(run.output).toMatch(/\nOK\b/);
        expect(run).toMatchObject({ code: 0, skipped: 0 });
        expect(run.ran).toBeGreaterThanOrEqual(options.minTests);
      },
      options.timeoutMs,
    );
  });
}
