import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isGlmvError } from "../util/errors.ts";
import { remoteOptionsFromArgs } from "./rl.ts";
import { rlConfigFromArgs } from "./rl-config.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("rlConfigFromArgs", () => {
  it("maps options onto the config and keeps the embedded defaults elsewhere", () => {
    const c = rlConfigFromArgs({
      steps: "5",
      "sft-steps": "7",
      families: "counting,ocr",
      seed: "3",
      sampler: "uniform",
    });
    expect(c.rl.steps).toBe(5);
    expect(c.sft.steps).toBe(7);
    expect(c.data.families).toEqual(["counting", "ocr"]);
    expect(c.seed).toBe(3);
    expect(c.rl.sampler).toBe("uniform");
    expect(c.rl).toMatchObject({
      batchPrompts: 16,
      groupSize: 8,
      lr: 5e-4,
      passes: 2,
      clipLow: 0.2,
      clipHigh: 0.28,
    });
    expect(c.data.heldoutItems).toBe(512);
    expect(c.rl.curriculum.offline).toBe("auto");
    expect(c.rl.curriculum.rescorePerStep).toBe(300);
    const d = rlConfigFromArgs({ "offline-difficulty": "sft-likelihood", "rescore-per-step": "50" });
    expect(d.rl.curriculum).toMatchObject({
      offline: "sft-likelihood",
      rescorePerStep: 50,
      decay: 0.9,
      priorWeight: 2,
    });
  });
  it("rejects unknown families, samplers and non-numbers", () => {
    expect(() => rlConfigFromArgs({ families: "poetry" })).toThrow(/unknown family/);
    expect(() => rlConfigFromArgs({ sampler: "greedy" })).toThrow(/--sampler/);
    expect(() => rlConfigFromArgs({ steps: "many" })).toThrow(/--steps must be a number/);
    expect(() => rlConfigFromArgs({ "offline-difficulty": "pass@k" })).toThrow(/--offline-difficulty/);
  });
  it("names the flag, the rule and the value of a wrong number in one line (no zod dump)", () => {
    expect(failure(() => rlConfigFromArgs({ steps: "1.5" }))).toBe(
      "bad_argument: --steps must be an integer ≥ 0, got 1.5",
    );
    expect(failure(() => rlConfigFromArgs({ "group-size": "1" }))).toBe(
      "bad_argument: --group-size must be an integer ≥ 2, got 1",
    );
    expect(failure(() => rlConfigFromArgs({ lr: "0" }))).toBe(
      "bad_argument: --lr must be a number > 0, got 0",
    );
  });
  it("refuses an unknown --config key with the nearest valid one, file and line; a missing or broken file is one clear error", () => {
    const dir = mkdtempSync(join(tmpdir(), "glmv-rl-config-"));
    dirs.push(dir);
    const typo = join(dir, "typo.yaml");
    writeFileSync(typo, "seed: 2\nrl:\n  stepz: 3\n");
    expect(failure(() => rlConfigFromArgs({ config: typo }))).toBe(
      `bad_config: unknown key 'rl.stepz' in ${typo} (did you mean 'rl.steps'?) (at ${typo}:3)`,
    );
    const wrong = join(dir, "wrong.yaml");
    writeFileSync(wrong, "data:\n  heldoutItems: many\n");
    expect(failure(() => rlConfigFromArgs({ config: wrong }))).toBe(
      `bad_config: data.heldoutItems must be an integer > 0, got "many" in ${wrong} (at ${wrong}:2)`,
    );
    // the flag wins over the file, and the error names what was wrong where it came from
    expect(rlConfigFromArgs({ config: wrong, heldout: "8" }).data.heldoutItems).toBe(8);
    const missing = join(dir, "missing.yaml");
    expect(failure(() => rlConfigFromArgs({ config: missing }))).toBe(
      `bad_config: cannot read ${missing}: no such file (at ${missing})`,
    );
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "rl:\n  steps: 3\n   lr: [1\n");
    expect(failure(() => rlConfigFromArgs({ config: broken }))).toMatch(
      new RegExp(`^bad_config: ${broken} is not valid YAML \\(line \\d\\): .* \\(at ${broken}:\\d\\)$`),
    );
    const list = join(dir, "list.yaml");
    writeFileSync(list, "- steps: 3\n");
    expect(failure(() => rlConfigFromArgs({ config: list }))).toMatch(
      /list\.yaml must be a mapping of config keys/,
    );
  });
});

/** "code: message" of what `f` throws ("ok" when it does not). */
function failure(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return isGlmvError(e) ? `${e.code}: ${e.message}` : String(e);
  }
  return "ok";
}

describe("remoteOptionsFromArgs", () => {
  it("is undefined for the local engine and maps the remote options", () => {
    expect(remoteOptionsFromArgs({})).toBeUndefined();
    expect(
      remoteOptionsFromArgs({
        policy: "tinker",
        url: "http://127.0.0.1:8000",
        "base-model": "glmv-tiny",
        "lora-rank": "8",
        loss: "importance_sampling",
        "remote-dir": "/srv/ckpt",
        "image-tokens": "glm",
      }),
    ).toMatchObject({
      kind: "tinker",
      url: "http://127.0.0.1:8000",
      baseModel: "glmv-tiny",
      loraRank: 8,
      lossFn: "importance_sampling",
      remoteDir: "/srv/ckpt",
      imageTokens: "glm",
      evalOnly: false,
    });
  });
  it("refuses what cannot run, with typed errors that say what to do", () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isGlmvError(e) ? `${e.code}: ${e.message}` : String(e);
      }
      return "ok";
    };
    expect(code(() => remoteOptionsFromArgs({ policy: "tinker" }))).toMatch(/bad_argument: .*needs --url/);
    expect(
      code(() => remoteOptionsFromArgs({ policy: "openai", url: "http://h/v1", "base-model": "m" })),
    ).toMatch(/bad_argument: .*only samples.*--eval-only/);
    expect(
      code(() =>
        remoteOptionsFromArgs({ policy: "openai", url: "http://h/v1", "base-model": "m", "eval-only": true }),
      ),
    ).toBe("ok");
    expect(code(() => remoteOptionsFromArgs({ url: "http://h" }))).toMatch(/--url needs a remote engine/);
    expect(code(() => remoteOptionsFromArgs({ tokenizer: "t" }))).toMatch(
      /--tokenizer needs a remote engine/,
    );
    expect(code(() => remoteOptionsFromArgs({ policy: "tinker", url: "u", "image-tokens": "x" }))).toMatch(
      /--image-tokens/,
    );
    expect(code(() => remoteOptionsFromArgs({ policy: "vllm", url: "http://h" }))).toMatch(
      /--policy must be/,
    );
    expect(code(() => remoteOptionsFromArgs({ policy: "tinker", url: "http://h", loss: "kl" }))).toMatch(
      /--loss/,
    );
  });
});
