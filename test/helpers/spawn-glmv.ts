/**
 * Test helper: start `glmv <args>` (bin/glmv.js) in a child process and wait for the `listening on <url>` line
 * every `glmv serve …` command prints once ready. Used by the tests that talk to a real server across processes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { type AddressInfo, createServer } from "node:net";
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

/** How a `glmv` run ended: the exit code (null when killed) and what it printed. */
export type GlmvRun = { code: number | null; stdout: string; stderr: string };

/**
 * Run `glmv ...args` to its end. A command that should fail fast but hangs or starts serving instead is killed after
 * `killAfterMs` (code null), so a regression fails its test and leaves no process behind.
 */
export function runGlmv(
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; killAfterMs?: number } = {},
): Promise<GlmvRun> {
  const child = spawn(process.execPath, [GLMV_BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    cwd: opts.cwd,
    env: opts.env ?? process.env,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs ?? 60_000);
  return new Promise((resolve) => {
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A port that was just free and is closed again: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
