/**
 * The Node version package.json promises (`engines.node`) must be one every locked dependency accepts, so `npm ci`
 * on that Node does not contradict it. The one package allowed to declare more is listed with why it is safe.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const semver = createRequire(import.meta.url)("semver") as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

type LockedPackage = { version?: string; engines?: { node?: string } | string[] };
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, LockedPackage>;
};

/**
 * Dependencies whose declared Node range is narrower than glmv's, each checked to work on glmv's minimum.
 * compute-engine declares >=22.3 but uses nothing Node 20 lacks: the reward tests exercise it on Node 20 (the
 * symbolic, units and golden-verifier suites). The version is pinned, so a new release cannot change this silently.
 */
const NARROWER_BUT_TESTED: Record<string, string> = {
  "node_modules/@cortex-js/compute-engine": "0.140.0",
};

describe("engines.node", () => {
  const minimum = semver.minVersion(pkg.engines.node)?.version ?? "";

  it("is a range with a minimum, and the Node running the tests satisfies it", () => {
    expect(minimum).toMatch(/^\d+\.\d+\.\d+$/);
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  });

  it("every locked dependency accepts the minimum Node version, except the listed, tested ones", () => {
    const narrower: Record<string, string> = {};
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (path === "" || range === undefined) continue;
      if (!semver.satisfies(minimum, range)) narrower[path] = `${entry.version} (node ${range})`;
    }
    const expected = Object.fromEntries(
      Object.entries(NARROWER_BUT_TESTED).map(([path, version]) => [
        path,
        `${version} (node ${(lock.packages[path]?.engines as { node?: string } | undefined)?.node})`,
      ]),
    );
    expect(narrower).toEqual(expected);
  });
});
