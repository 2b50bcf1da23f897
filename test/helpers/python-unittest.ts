/**
 * Test helper: run an example's `unittest` suite (`examples/<engine>/tests/`) with the system Python against servers
 * the vitest test started, so `npm test` covers the Python clients. Standard library only on the Python side.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const PYTHON = "/usr/bin/python3";
export const hasPython = existsSync(PYTHON);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type UnittestRun = { code: number | null; output: string; ran: number; skipped: number };

/** `python3 -m unittest discover -s examples/<engine>/tests -v` with `env` (plus PATH) and its tally. */
export function runUnittest(engine: string, env: Record<string, string>): Promise<UnittestRun> {
  const child = spawn(PYTHON, ["-m", "unittest", "discover", "-s", `examples/${engine}/tests`, "-v"], {
    cwd: ROOT,
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
