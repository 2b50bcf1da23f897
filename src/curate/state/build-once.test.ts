import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { readFile, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildOnce } from "./build-once.ts";

const tempDir = () => mkdtempSync(join(tmpdir(), "glmv-build-once-"));

/** A spec over a text file whose builds are counted. */
function counted(path: string, content: string) {
  const builds = { n: 0 };
  return {
    builds,
    spec: {
      path,
      load: () => readFile(path, "utf8").catch(() => null),
      build: async () => {
        builds.n++;
        await new Promise((r) => setTimeout(r, 50));
        await writeFile(path, content);
        return content;
      },
    },
  };
}

describe("buildOnce", () => {
  it("builds once for many concurrent callers; the others read what it wrote", async () => {
    const path = join(tempDir(), "x.txt");
    const { builds, spec } = counted(path, "built");
    const results = await Promise.all(Array.from({ length: 5 }, () => buildOnce(spec)));
    expect(results).toEqual(Array(5).fill("built"));
    expect(builds.n).toBe(1);
    expect(await buildOnce(spec)).toBe("built");
    expect(builds.n).toBe(1);
  });

  it("waits while a live builder holds the lock and reads its result without building", async () => {
    const path = join(tempDir(), "y.txt");
    writeFileSync(`${path}.lock`, "");
    const { builds, spec } = counted(path, "mine");
    const waiting = buildOnce(spec);
    await new Promise((r) => setTimeout(r, 300));
    await writeFile(path, "theirs");
    expect(await waiting).toBe("theirs");
    expect(builds.n).toBe(0);
  });

  it("takes over a lock nobody has touched for a minute (its builder was killed)", async () => {
    const path = join(tempDir(), "z.txt");
    writeFileSync(`${path}.lock`, "");
    const old = new Date(Date.now() - 60_000);
    await utimes(`${path}.lock`, old, old);
    const { builds, spec } = counted(path, "rebuilt");
    expect(await buildOnce(spec)).toBe("rebuilt");
    expect(builds.n).toBe(1);
  });

  it("takes over at once a fresh lock whose holder on this host has exited (a rerun after kill -9)", async () => {
    const path = join(tempDir(), "w.txt");
    const dead = spawnSync(process.execPath, [
      "-e",
      "process.stdout.write(String(process.pid))",
    ]).stdout.toString();
    writeFileSync(`${path}.lock`, `${hostname()} ${dead}\n`);
    const { builds, spec } = counted(path, "taken over");
    expect(await buildOnce(spec)).toBe("taken over");
    expect(builds.n).toBe(1);
  });
});
