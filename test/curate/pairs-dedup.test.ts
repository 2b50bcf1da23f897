import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { contentHash } from "../../src/curate/image/content-hash.ts";
import { PhashIndex } from "../../src/curate/image/hash-index.ts";
import { hamming, hashToHex, phash64 } from "../../src/curate/image/phash.ts";
import type { CurateItem, StageOutcome } from "../../src/curate/stage.ts";
import { exactDedup } from "../../src/curate/stages/pairs/exact-dedup.ts";
import { phashStage } from "../../src/curate/stages/pairs/phash.ts";
import { phashDedup } from "../../src/curate/stages/pairs/phash-dedup.ts";
import { patternImage, reencoded } from "../helpers/pairs-images.ts";
import { pairItem, runStage, stageContext, verdict } from "../helpers/stage-context.ts";

const tempDir = () => mkdtempSync(join(tmpdir(), "glmv-dedup-"));

/** Items with a stored 64-bit hash (no real image to decode: `fields.phash` vouched for by `fields.sha256`). */
const hashedItem = (id: string, hash: bigint): CurateItem => {
  const bytes = new TextEncoder().encode(`image of ${id}`);
  return {
    id,
    media: [{ name: "0.png", bytes }],
    fields: { sha256: contentHash(bytes), phash: hashToHex(hash) },
  };
};

/** Run `items` through a stage opened over `input` (its scanInput), in the given processing order. */
async function decide(
  stage: typeof exactDedup | typeof phashDedup,
  options: unknown,
  input: CurateItem[],
  order: CurateItem[],
  state = tempDir(),
): Promise<Record<string, string>> {
  const outcomes = await runStage(stage, options, order, stageContext(input, state));
  return Object.fromEntries(order.map((item, i) => [item.id, describeOutcome(outcomes[i]!)]));
}
const describeOutcome = (o: StageOutcome) => (o.kind === "keep" ? "keep" : `${o.reason}: ${o.detail}`);

describe("exact-dedup", () => {
  it("drops a copy iff an earlier input item has the same bytes, whatever order the items are processed in", async () => {
    const a = await patternImage(200, 150, 1);
    const b = await patternImage(200, 150, 2);
    // shard 0 then shard 1, as scanInput yields them: the copy in shard 1 is the later one
    const input = [
      pairItem("a", a, "x"),
      pairItem("b", b, "y"),
      pairItem("a-copy", Uint8Array.from(a), "x again"),
      pairItem("c", await reencoded(a, 200), "z"),
      pairItem("a-copy-2", Uint8Array.from(a), "x a third time"),
    ];
    const expected = {
      a: "keep",
      b: "keep",
      "a-copy": "exact_duplicate: same bytes as a",
      c: "keep",
      "a-copy-2": "exact_duplicate: same bytes as a",
    };
    expect(await decide(exactDedup, {}, input, input)).toEqual(expected);
    // shard 1 finishing first (a worker that got there before shard 0) decides the same
    const state = tempDir();
    expect(await decide(exactDedup, {}, input, [...input].reverse(), state)).toEqual(expected);
    // and so does a rerun over the same state folder (the index is reused, not rebuilt)
    expect(await decide(exactDedup, {}, input, input, state)).toEqual(expected);
  });

  it("rebuilds an index left by another input instead of reusing it", async () => {
    const state = tempDir();
    const a = await patternImage(120, 90, 5);
    const first = [pairItem("x", a, ""), pairItem("y", Uint8Array.from(a), "")];
    expect(await decide(exactDedup, {}, first, first, state)).toMatchObject({
      y: "exact_duplicate: same bytes as x",
    });
    // the same state folder, an input where y comes first: y is now the one kept
    const second = [first[1]!, first[0]!];
    expect(await decide(exactDedup, {}, second, second, state)).toEqual({
      y: "keep",
      x: "exact_duplicate: same bytes as y",
    });
  });

  it("refuses an item that is not in its input (a stage driven without scanInput)", async () => {
    const a = await patternImage(60, 40, 6);
    const out = runStage(
      exactDedup,
      {},
      [pairItem("stray", a, "")],
      stageContext([pairItem("other", a, "")]),
    );
    await expect(out).rejects.toThrow(/item stray is not in the index built from this stage's input/);
  });
});

describe("phash-dedup", () => {
  it("drops a resized re-encoded copy of an earlier item and keeps distinct pictures, in any processing order", async () => {
    const a = await patternImage(400, 300, 3);
    const items = [
      pairItem("a", a, "x"),
      pairItem("b", await patternImage(400, 300, 9), "y"),
      pairItem("a-small", await reencoded(a, 320, 55), "x small"),
      pairItem("c", await patternImage(400, 300, 14), "z"),
    ];
    const state = tempDir();
    const out = await runStage(phashDedup, {}, items, stageContext(items, state));
    expect(out.map(verdict)).toEqual(["keep", "keep", "near_duplicate", "keep"]);
    expect(out[2]).toMatchObject({ detail: expect.stringMatching(/^\d bits from a$/) });
    expect(out[0]).toMatchObject({
      items: [{ fields: { phash: hashToHex(await phash64(a)), sha256: contentHash(a) } }],
    });
    const backwards = await runStage(phashDedup, {}, [...items].reverse(), stageContext(items, state));
    expect(backwards.reverse()).toEqual(out);
  });

  it("drops an item near ANY earlier item (the earliest named), so a chain's later links go too", async () => {
    // a–b and b–c are 4 bits apart, a–c 8: with maxDistance 5, b is near a and c is near b
    const input = [hashedItem("a", 0n), hashedItem("b", 0xfn), hashedItem("c", 0xffn)];
    expect(await decide(phashDedup, { maxDistance: 5 }, input, [...input].reverse())).toEqual({
      c: "near_duplicate: 4 bits from b",
      b: "near_duplicate: 4 bits from a",
      a: "keep",
    });
  });

  it("reads hashes a phash stage left for the same bytes, and recomputes ones left for other bytes", async () => {
    const one = await patternImage(160, 120, 21);
    const two = await patternImage(160, 120, 22);
    const [hashed] = await runStage(phashStage, {}, [pairItem("p", one, "")]);
    expect(hashed).toMatchObject({
      kind: "keep",
      items: [{ fields: { sha256: contentHash(one), phash: hashToHex(await phash64(one)) } }],
    });
    // `two` claims one's hash for its own bytes: trusted (the stage does not decode it), so it is one's copy
    const vouched: CurateItem = {
      ...pairItem("q", two, ""),
      fields: { sha256: contentHash(two), phash: hashToHex(await phash64(one)) },
    };
    // `three` carries one's fields though its bytes are two's: stale, recomputed, so a copy of two's real hash only
    const stale: CurateItem = {
      ...pairItem("r", Uint8Array.from(two), ""),
      fields: { sha256: contentHash(one), phash: hashToHex(await phash64(one)) },
    };
    const input = [pairItem("p", one, ""), vouched, stale];
    expect(await decide(phashDedup, { maxDistance: 0 }, input, input)).toEqual({
      p: "keep",
      q: "near_duplicate: 0 bits from p",
      r: "keep",
    });
  });

  it("drops an image that does not decode as undecodable", async () => {
    const input = [pairItem("bad", new Uint8Array([0xff, 0xd8, 0xff, 0x00]), "")];
    const [out] = await runStage(phashDedup, {}, input, stageContext(input));
    expect(out).toMatchObject({ kind: "drop", reason: "undecodable" });
  });

  it("keeps the index in the option's file, relative to the pipeline folder", async () => {
    const base = tempDir();
    const input = [hashedItem("a", 1n), hashedItem("b", 2n ** 40n)];
    const ctx = { ...stageContext(input, tempDir()), baseDir: base };
    await runStage(phashDedup, { index: "shared/p.sqlite" }, input, ctx);
    const index = await PhashIndex.open(join(base, "shared/p.sqlite"), 5, ctx.scanInput);
    expect(index.size()).toBe(2);
    index.close();
  });
});

describe("PhashIndex", () => {
  it("finds the earliest earlier hash within the threshold, exactly as a scan does (multi-index misses nothing)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(39), fc.array(fc.nat(63), { maxLength: 9 }), fc.nat(40)), { maxLength: 30 }),
        fc.integer({ min: 0, max: 8 }),
        async (stored, probes, maxDistance) => {
          const items = stored.map((h, i) => hashedItem(`s${i}`, h));
          const index = await PhashIndex.open(join(tempDir(), "p.sqlite"), maxDistance, async function* () {
            yield* items;
          });
          for (const [pick, flips, before] of probes) {
            let q = stored[pick % stored.length]!;
            for (const bit of flips) q ^= 1n << BigInt(bit);
            const scan = stored.findIndex((h, i) => i < before && hamming(h, q) <= maxDistance);
            expect(index.nearest(q, before)?.of).toBe(scan < 0 ? undefined : `s${scan}`);
          }
          index.close();
        },
      ),
      { numRuns: 30 },
    );
  });

  it("lets concurrent processes (array tasks) share one index file, each deciding its share as one process would", async () => {
    const path = join(tempDir(), "shared.sqlite");
    const base = Array.from({ length: 40 }, (_, i) =>
      BigInt.asUintN(64, BigInt(i + 1) * 0x9e3779b97f4a7c15n),
    );
    // originals and copies 2 bits away, interleaved: each copy comes right after its original in the input
    const rows = base.flatMap((h, i) => [
      [`o-${i}`, hashToHex(h)],
      [`c-${i}`, hashToHex(h ^ 0b101n)],
    ]);
    const script = fileURLToPath(new URL("../helpers/phash-claim-worker.ts", import.meta.url));
    // Each task decides its own half (even or odd positions), as two array tasks over different shards would.
    const run = async (task: number): Promise<[string, string][]> => {
      const arg = JSON.stringify({ path, maxDistance: 4, rows, task, tasks: 2 });
      const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script, arg]);
      return JSON.parse(stdout);
    };
    const decided = Object.fromEntries((await Promise.all([run(0), run(1)])).flat());
    for (let i = 0; i < base.length; i++) {
      expect(decided[`o-${i}`]).toBe("first");
      expect(decided[`c-${i}`]).toBe(`duplicate of o-${i}`);
    }
  });
});
