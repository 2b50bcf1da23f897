import { describe, expect, it } from "vitest";
import { PyRandom } from "./random.ts";

// Pinned from CPython 3.11 (/usr/bin/python3): random.Random(seed) then the calls named in each test.
describe("PyRandom reproduces CPython's random module", () => {
  it("seed 42: getrandbits(32) × 5", () => {
    const r = new PyRandom(42);
    const got = Array.from({ length: 5 }, () => Number(r.getrandbits(32)));
    expect(got).toEqual([2746317213, 478163327, 107420369, 3184935163, 1181241943]);
  });

  it("seed 42: choice('ABCD') × 40, the draws MMMU's fallback consumes", () => {
    const r = new PyRandom(42);
    const got = Array.from({ length: 40 }, () => r.choice(["A", "B", "C", "D"])).join("");
    expect(got).toBe("AACBBBAADAAABBABDBDCABDCCBBCAADACCCADADA");
  });

  it("seed 42: choice over ten options (rejection sampling with 4-bit draws)", () => {
    const r = new PyRandom(42);
    const letters = [..."ABCDEFGHIJ"];
    const got = Array.from({ length: 40 }, () => r.choice(letters)).join("");
    expect(got).toBe("BAEDDCBIBJGAABDDIJAIDIGDHJEACGFECDFBBGBF");
  });

  it("seeds 0, 2**40 + 123 and -5 (|seed| split into 32-bit key words)", () => {
    const draws = (seed: number | bigint, n: number) => {
      const r = new PyRandom(seed);
      return Array.from({ length: n }, () => Number(r.getrandbits(32)));
    };
    expect(draws(0, 3)).toEqual([3626764237, 1654615998, 3255389356]);
    expect(draws(2n ** 40n + 123n, 3)).toEqual([4053542138, 1848172766, 16144985]);
    expect(draws(-5, 2)).toEqual([2675342405, 1097127993]);
  });

  it("getrandbits of 1, 5, 31, 33, 64 and 100 bits (multi-word results, low word first)", () => {
    const r = new PyRandom(7);
    const got = [1, 5, 31, 33, 64, 100].map((k) => r.getrandbits(k));
    expect(got).toEqual([
      0n,
      30n,
      323946139n,
      5990721294n,
      1336213610742710224n,
      403598562939208673953046267940n,
    ]);
  });

  it("random() gives the same doubles", () => {
    const r = new PyRandom(42);
    expect([r.random(), r.random(), r.random()]).toEqual([
      0.6394267984578837, 0.025010755222666936, 0.27502931836911926,
    ]);
  });

  it("choice of an empty sequence throws, as Python's IndexError", () => {
    expect(() => new PyRandom(1).choice([])).toThrow(/empty/);
  });
});
