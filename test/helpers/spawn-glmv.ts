/**
 * Test helper: start `glmv <args>` (bin/glmv.js) in a child process and wait for the `listening on <url>` line
 * every `glmv serve …` command prints once ready. Used by the tests that talk to a real server across processes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const GLMV_BIN = fileURLToPath(new URL("../../bin/glmv.js", import.meta.url));

export type SpawnedServer = { child: ChildProcess; url: string };

/** Spawn `glmv ...args` and resolve with the URL it listens on; rejects if it exits first. */
export function spawnGlmvServer(
  args: readonly string[],
  stderr: "inherit" | "ignore" = "inherit",
): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [GLMV_BIN, ...args], { stdio: ["ignore", "pipe", stderr] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once("exit", (code) => reject(new Error(`glmv ${args.join(" ")} exited early (${code})`)));
  });
}
