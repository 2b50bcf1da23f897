import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Claim, PhashIndex } from "../../src/curate/image/hash-index.ts";
import { hamming, hashToHex } from "../../src/curate/image/phash.ts";
import { exactDedup } from "../../src/curate/stages/pairs/exact-dedup.ts";
import { phashDedup } from "../../src/curate/stages/pairs/phash-dedup.ts";
import { patternImage, reencoded } from "../helpers/pairs-images.ts";
import { pairItem, runStage, stageContext, verdict } from "../helpers/stage-context.ts";

const tempDir = () => mkdtempSync(join(tmpdir(), "glmv-dedup-"));

describe("exact-dedup", () => {
  it("drops a byte-identical copy in another shard, naming the kept item, and a rerun decides the same", async () => {
    const state = tempDir();
    const a = await patternImage(200, 150, 1);
    const b = await patternImage(200, 150, 2);
    const shard0 = [pairItem("a", a, "x"), pairItem("b", b, "y")];
    const shard1 = [
      pairItem("a-copy", Uint8Array.from(a), "x again"),
      pairItem("c", await reencoded(a, 200), "z"),
    ];
    const first = [
      ...(await runStage(exactDedup, {}, shard0, stageContext([], state))),
      ...(await runStage(exactDedup, {}, shard1, stageContext([], state))),
    ];
    expect(first.map(verdict)).toEqual(["keep", "keep", "exact_duplicate", "keep"]);
    expect(first[2]).toMatchObject({ detail: "same bytes as a" });
    // A rerun after a crash: shard 1 first this time, over the same index. Own ids are kept, the copy still goes.
    const rerun = [
      ...(await runStage(exactDedup, {}, shard1, stageContext([], state))),
      ...(await runStage(exactDedup, {}, shard0, stageContext([], state))),
    ];
    expect(rerun.map(verdict)).toEqual(["exact_duplicate", "keep", "keep", "keep"]);
  });
});

describe("phash-dedup", () => {
  it("drops a resized re-encoded copy as a near duplicate of the first claimant and keeps distinct pictures", async () => {
    const state = tempDir();
    const a = await patternImage(400, 300, 3);
    const items = [
      pairItem("a", a, "x"),
      pairItem("b", await patternImage(400, 300, 9), "y"),
      pairItem("a-small", await reencoded(a, 320, 55), "x small"),
      pairItem("c", await patternImage(400, 300, 14), "z"),
    ];
    const out = await runStage(phashDedup, {}, items, stageContext([], state));
    expect(out.map(verdict)).toEqual(["keep", "keep", "near_duplicate", "keep"]);
    expect(out[2]).toMatchObject({ detail: expect.stringMatching(/bits from a$/) });
    expect(out[0]).toMatchObject({ items: [{ fields: { phash: expect.stringMatching(/^[0-9a-f]{16}$/) } }] });
    const again = await runStage(phashDedup, {}, items, stageContext([], state));
    expect(again).toEqual(out);
  });

  it("keeps the index in the option's file, relative to the pipeline folder", async () => {
    const base = tempDir();
    const ctx = { ...stageContext([], tempDir()), baseDir: base };
    const a = await patternImage(120, 90, 4);
    await runStage(phashDedup, { index: "shared/p.sqlite" }, [pairItem("a", a, "x")], ctx);
    const index = new PhashIndex(join(base, "shared/p.sqlite"), 5);
    expect(index.size()).toBe(1);
    index.close();
  });
});

describe("PhashIndex", () => {
  it("finds exactly what a scan finds within the threshold (multi-index hashing misses nothing)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(39), fc.array(fc.nat(63), { maxLength: 9 })), { maxLength: 30 }),
        fc.integer({ min: 0, max: 8 }),
        (stored, probes, maxDistance) => {
          const index = new PhashIndex(join(tempDir(), "p.sqlite"), maxDistance);
          index.addMany(stored.map((h, i) => [`s${i}`, h]));
          for (const [pick, flips] of probes) {
            let q = stored[pick % stored.length]!;
            for (const bit of flips) q ^= 1n << BigInt(bit);
            const scan = stored.findIndex((h) => hamming(h, q) <= maxDistance);
            const found = index.nearest(q);
            expect(found?.id).toBe(scan < 0 ? undefined : `s${scan}`);
          }
          index.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it("lets concurrent processes (array tasks) share one file: each near pair keeps exactly one member", async () => {
    const path = join(tempDir(), "shared.sqlite");
    const base = Array.from({ length: 40 }, (_, i) =>
      BigInt.asUintN(64, BigInt(i + 1) * 0x9e3779b97f4a7c15n),
    );
    // Worker 0 gets every original, worker 1 a copy of each 2 bits away: one of each pair must win, never both.
    const rows = (w: number) =>
      base.map((h, i) => [`${w}-${i}`, hashToHex(w === 0 ? h : h ^ 0b101n)] as [string, string]);
    const script = fileURLToPath(new URL("../helpers/phash-claim-worker.ts", import.meta.url));
    const run = async (w: number): Promise<[string, Claim][]> => {
      const arg = JSON.stringify({ path, maxDistance: 4, rows: rows(w) });
      const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script, arg]);
      return JSON.parse(stdout);
    };
    const [zero, one] = await Promise.all([run(0), run(1)]);
    for (let i = 0; i < base.length; i++) {
      const kinds = [zero[i]![1].kind, one[i]![1].kind].sort();
      expect(kinds).toEqual(["duplicate", "new"]);
    }
  });
});
