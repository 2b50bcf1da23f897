import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseRlConfig, RlConfig, StoredRlConfig } from "./config.ts";
import { RunStore } from "./run-store.ts";

const fresh = () => join(mkdtempSync(join(tmpdir(), "glmv-config-")), "run");

describe("RlConfig is strict", () => {
  it("refuses an unknown key at every level instead of running the defaults", () => {
    for (const input of [
      { stepz: 3 },
      { rl: { stepz: 3 } },
      { data: { familys: ["counting"] } },
      { sft: { step: 3 } },
      { rl: { curriculum: { rescorePerStepp: 3 } } },
      { rl: { ratioEma: { alfa: 0.5 } } },
      { moeBalance: { auxLoss: 0 } },
    ]) {
      const r = RlConfig.safeParse(input);
      expect(r.success, JSON.stringify(input)).toBe(false);
      expect(r.error?.issues[0]?.code).toBe("unrecognized_keys");
    }
    expect(parseRlConfig({ rl: { steps: 3 } }).rl.steps).toBe(3);
  });

  it("reads back every config.yaml the run store writes, with all the keys the writer emits", async () => {
    const full = parseRlConfig({
      model: "tiny-moe",
      data: { sftLevels: [1], families: ["counting", "ocr"] },
      rl: { curriculum: { offline: "level" }, ratioEma: { alpha: 0.5 } },
    });
    const store = await RunStore.create(fresh(), RlConfig, full);
    try {
      expect(store.readConfig(RlConfig)).toEqual(full);
      expect(store.readConfig(StoredRlConfig)).toEqual(full);
    } finally {
      store.close();
    }
  });

  it("a run folder from an older version (with a retired key) still opens; a user's file may not use it", async () => {
    const dir = fresh();
    const store = await RunStore.create(dir, RlConfig, parseRlConfig({ rl: { steps: 7 } }));
    store.close();
    // config.yaml as written between bca1765 and ae6e83b: curriculum.answerShare, since removed
    const old = parseRlConfig({ rl: { steps: 7 } }) as unknown as {
      rl: { curriculum: Record<string, unknown> };
    };
    old.rl.curriculum.answerShare = 0.25;
    writeFileSync(join(dir, "config.yaml"), stringify(old));
    const reopened = RunStore.open(dir);
    try {
      expect(reopened.readConfig(StoredRlConfig).rl.steps).toBe(7);
      expect(() => reopened.readConfig(RlConfig)).toThrow(/unknown key 'rl.curriculum.answerShare'/);
      // a hand-edited typo in config.yaml is named with its file and line
      writeFileSync(
        join(dir, "config.yaml"),
        readFileSync(join(dir, "config.yaml"), "utf8").replace("  steps: 7", "  stepz: 7"),
      );
      expect(() => reopened.readConfig(StoredRlConfig)).toThrow(
        expect.objectContaining({
          code: "bad_config",
          message: expect.stringMatching(
            /^unknown key 'rl.stepz' in .*config.yaml \(did you mean 'rl.steps'\?\)/,
          ),
          where: expect.stringMatching(/config\.yaml:\d+$/),
        }),
      );
    } finally {
      reopened.close();
    }
  });
});
