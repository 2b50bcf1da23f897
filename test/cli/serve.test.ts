import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CurriculumStore } from "../../src/serve/curriculum-store.ts";
import { runGlmv, spawnGlmvServer } from "../helpers/spawn-glmv.ts";
import { trickleBody } from "../helpers/trickle.ts";

/** Run `glmv <args>` to completion; one that serves instead of refusing is killed after 20 s (code null). */
const run = (args: string[]) => runGlmv(args, { killAfterMs: 20_000 });

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

  it("--no-thinking scores a GLM-4.5V thinking-off completion (no think block) as if its empty one were there", async () => {
    const { child, url } = await spawnGlmvServer(
      ["serve", "reward", "--port", "0", "--workers", "1", "--style", "4.5v", "--no-thinking"],
      "ignore",
    );
    try {
      expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ thinking: false });
      const item = { id: 1, domain: "counting", answer: "3", response: "So <|begin_of_box|>3<|end_of_box|>" };
      const res = await fetch(`${url}/v1/score`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ items: [item] }),
      });
      const { results } = (await res.json()) as { results: Record<string, unknown>[] };
      expect(results[0]).toMatchObject({ reward: 1, format: "ok", extracted: "3" });
    } finally {
      await stop(child);
    }
  }, 30_000);
});

/** Stderr without the informational "N new prompts" line: what is left must be one line, and no stack trace. */
const problemLines = (stderr: string) =>
  stderr
    .trim()
    .split("\n")
    .filter((l) => !/new prompts, \d+ in total/.test(l));

/** Stop a spawned server and wait for it to exit. */
async function stop(child: import("node:child_process").ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

describe("glmv serve: start-up mistakes are one line and exit 2", () => {
  let dir: string;
  let prompts: string;
  let taken: Server;
  let takenPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "glmv-serve-cli-"));
    prompts = join(dir, "prompts.jsonl");
    writeFileSync(prompts, '{"id":"a","prompt":"1+1?"}\n{"id":"b","prompt":"2+2?"}\n');
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    takenPort = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => taken.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses --port outside [0, 65535]", async () => {
    for (const command of ["reward", "curriculum"]) {
      const { code, stderr } = await run(["serve", command, "--port", "99999"]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/--port must be an integer in \[0, 65535\], got '99999'/);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("names a port in use in one line, for both servers", async () => {
    const runs = await Promise.all([
      run(["serve", "reward", "--port", String(takenPort), "--workers", "1"]),
      run([
        "serve",
        "curriculum",
        "--port",
        String(takenPort),
        "--db",
        join(dir, "inuse.sqlite"),
        "--prompts",
        prompts,
      ]),
    ]);
    for (const [i, { code, stderr }] of runs.entries()) {
      expect(code).toBe(2);
      expect(problemLines(stderr)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^glmv serve ${["reward", "curriculum"][i]}: port ${takenPort} on 127\\.0\\.0\\.1 is already in use \\(`,
          ),
        ),
      ]);
    }
  }, 30_000);

  it("refuses to start a curriculum with no prompts", async () => {
    const fresh = join(dir, "fresh.sqlite");
    const noDb = await run(["serve", "curriculum", "--port", "0", "--db", fresh]);
    expect(noDb.code).toBe(2);
    expect(problemLines(noDb.stderr)).toEqual([expect.stringMatching(/no prompts: .*pass --prompts FILE/)]);
    expect(existsSync(fresh)).toBe(false); // a mistake leaves no empty database behind

    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "\n\n");
    const emptyFile = await run(["serve", "curriculum", "--port", "0", "--db", fresh, "--prompts", empty]);
    expect(emptyFile.code).toBe(2);
    expect(problemLines(emptyFile.stderr)).toEqual([
      expect.stringMatching(/holds no prompts .*empty\.jsonl/),
    ]);

    const emptyDb = join(dir, "empty.sqlite");
    CurriculumStore.open(emptyDb).close();
    const emptyStore = await run(["serve", "curriculum", "--port", "0", "--db", emptyDb]);
    expect(emptyStore.code).toBe(2);
    expect(problemLines(emptyStore.stderr)).toEqual([
      expect.stringMatching(/no prompts: .*empty\.sqlite holds none/),
    ]);
  }, 30_000);

  it("refuses duplicate prompt ids, naming the id and both lines", async () => {
    const dup = join(dir, "dup.jsonl");
    writeFileSync(dup, '{"id":"a"}\n{"id":7}\n{"id":"b"}\n{"id":"7"}\n');
    const { code, stderr } = await run([
      "serve",
      "curriculum",
      "--port",
      "0",
      "--db",
      join(dir, "dup.sqlite"),
      "--prompts",
      dup,
    ]);
    expect(code).toBe(2);
    expect(problemLines(stderr)).toEqual([expect.stringMatching(/duplicate prompt id '7' on lines 2 and 4/)]);
  }, 30_000);

  it("lets only one curriculum server own a --db: the second exits 2 and steps stay unique", async () => {
    const db = join(dir, "shared.sqlite");
    const first = await spawnGlmvServer(
      ["serve", "curriculum", "--port", "0", "--db", db, "--prompts", prompts],
      "ignore",
    );
    try {
      const second = await run(["serve", "curriculum", "--port", "0", "--db", db, "--prompts", prompts]);
      expect(second.code).toBe(2);
      expect(problemLines(second.stderr)).toEqual([
        expect.stringMatching(/in use by another process .*shared\.sqlite/),
      ]);
      const steps: number[] = [];
      for (let k = 0; k < 3; k++) {
        const res = await fetch(`${first.url}/v1/sample`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ n: 1 }),
        });
        steps.push(((await res.json()) as { step: number }).step);
      }
      expect(steps).toEqual([1, 2, 3]);
    } finally {
      await stop(first.child);
    }
  }, 30_000);
});

describe("glmv serve: reachable binds", () => {
  it("prints the address it bound (0.0.0.0) and accepts a lower-case bearer scheme", async () => {
    const { child, url } = await spawnGlmvServer(
      ["serve", "reward", "--host", "0.0.0.0", "--port", "0", "--token", "s3cret", "--workers", "1"],
      "ignore",
    );
    try {
      expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      const local = url.replace("0.0.0.0", "127.0.0.1");
      const score = (authorization: string) =>
        fetch(`${local}/v1/score`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization },
          body: JSON.stringify({
            items: [
              { id: 1, domain: "counting", answer: "3", response: "<think>a</think><answer>3</answer>" },
            ],
          }),
        });
      expect((await score("bearer s3cret")).status).toBe(200);
      expect((await score("BEARER s3cret")).status).toBe(200);
      expect((await score("bearer wrong")).status).toBe(401);
    } finally {
      await stop(child);
    }
  }, 30_000);
});

describe("glmv serve curriculum --request-timeout-ms", () => {
  it("answers a trickled body with 408 once the limit passes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glmv-serve-trickle-"));
    const prompts = join(dir, "p.jsonl");
    writeFileSync(prompts, '{"id":"a"}\n');
    const { child, url } = await spawnGlmvServer(
      [
        "serve",
        "curriculum",
        "--port",
        "0",
        "--db",
        join(dir, "s.sqlite"),
        "--prompts",
        prompts,
        "--request-timeout-ms",
        "300",
      ],
      "ignore",
    );
    try {
      const { closed, answer } = await trickleBody(`${url}/v1/observe`);
      expect(closed).toBe(true);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
