import { describe, expect, it } from "vitest";
import { loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import { createPolicy, remotePolicySpec } from "../../src/rl/job/policy-factory.ts";
import type { Policy } from "../../src/rl/loop/policy.ts";
import { bigramBackend } from "../../src/serve/bigram-backend.ts";
import { createTrainerApp } from "../../src/serve/trainer-server.ts";
import { isGlmvError } from "../../src/util/errors.ts";

describe("createPolicy", () => {
  it("passes a local policy through, builds a tinker policy on a live server, and a rollout-only openai policy", async () => {
    const local = { generate: async () => [] } as unknown as Policy;
    expect(await createPolicy({ kind: "local", create: () => local })).toBe(local);

    const tok = await loadTinyTokenizer();
    const app = createTrainerApp({
      backend: bigramBackend({ vocabSize: tok.vocabSize, imageTokenId: tok.special.image, baseModel: "b" }),
    });
    const { url, close } = await app.listen(0);
    try {
      const tinker = await createPolicy({ kind: "tinker", url, tokenizer: tok, baseModel: "b" });
      const prompt = { id: "q", images: [], messages: [{ role: "user" as const, content: "1+1" }] };
      const params = {
        n: 2,
        temperature: 1,
        topP: 1,
        maxNewTokens: 4,
        thinkBudget: 4,
        style: "4.1v" as const,
        seed: 0,
      };
      const [group] = await tinker.generate([prompt], params);
      expect(group).toHaveLength(2);
      await tinker.dispose();
    } finally {
      await close();
    }

    const openai = await createPolicy({ kind: "openai", url: "http://127.0.0.1:9/v1", model: "glm" });
    const err = await openai.save("/tmp/x").catch((e: unknown) => e);
    expect(isGlmvError(err) && err.code === "engine_error").toBe(true);
  });
});

describe("remotePolicySpec", () => {
  it("takes the trainer's first served model when none is named, and passes the LoRA rank and loss on", async () => {
    const tok = await loadTinyTokenizer();
    const app = createTrainerApp({
      backend: bigramBackend({
        vocabSize: tok.vocabSize,
        imageTokenId: tok.special.image,
        baseModel: "served",
      }),
    });
    const { url, close } = await app.listen(0);
    try {
      const spec = await remotePolicySpec({
        kind: "tinker",
        url,
        loraRank: 4,
        lossFn: "importance_sampling",
      });
      expect(spec).toMatchObject({
        kind: "tinker",
        url,
        baseModel: "served",
        options: { loraRank: 4, lossFn: "importance_sampling" },
      });
      expect(spec.kind === "tinker" && spec.tokenizer.special).toEqual(tok.special);
      const named = await remotePolicySpec({ kind: "tinker", url, baseModel: "named", imageTokens: "glm" });
      expect(named).toMatchObject({ baseModel: "named" });
      const count = named.kind === "tinker" ? named.options?.imageTokens : undefined;
      // GLM-V's processor smart-resizes a 56×56 image up to 84×84 (min pixels): 3·3 = 9 placeholders (tiny preset: 4)
      expect(count?.({ data: new Uint8Array(56 * 56 * 3), width: 56, height: 56, channels: 3 })).toBe(9);
      expect(spec.kind === "tinker" && spec.options?.imageTokens).toBeFalsy();
    } finally {
      await close();
      await app.close();
    }
    expect(
      await remotePolicySpec({ kind: "openai", url: "http://h/v1", baseModel: "glm", apiKey: "k" }),
    ).toEqual({
      kind: "openai",
      url: "http://h/v1",
      model: "glm",
      apiKey: "k",
    });
    const err = await remotePolicySpec({ kind: "openai", url: "http://h/v1" }).catch((e: unknown) => e);
    expect(isGlmvError(err) && err.code === "bad_argument").toBe(true);
  });
});
