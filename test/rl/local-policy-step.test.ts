/**
 * One RL step on the in-process policy encodes each of its prompts once (glmv issue 17): the rescoring of RLCS, the
 * rollout rounds and the update share one encoding per prompt, counted by a spy tokenizer (a prompt's encoding
 * renders the chat template, tokenizes it and processes its image in one go). The main job's own wiring is used:
 * the local engine's `referenceLikelihood` and `promptFromItem`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { promptFromItem } from "../../src/data/task-encoding.ts";
import { buildSuite } from "../../src/data/tasks/suite.ts";
import type { TaskItem } from "../../src/data/tasks/types.ts";
import { presetConfig } from "../../src/model/config.ts";
import { initParams } from "../../src/model/params.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import { LocalPolicy } from "../../src/rl/engines/local/local-policy.ts";
import { createLocalEngine } from "../../src/rl/job/local-engine.ts";
import { parseRlConfig } from "../../src/rl/loop/config.ts";
import { initialTrainerState, type RlContext, rlStep, type Scorer } from "../../src/rl/loop/trainer.ts";
import { initialPromptStats } from "../../src/rl/loop/trainer-phases.ts";
import { initTensorEngine } from "../../src/tensor/engine.ts";

const ITEMS: TaskItem[] = buildSuite({ seed: 4, perFamily: 12, families: ["counting"], split: "train" });

/** Every group has signal: rollout k of a prompt earns k mod 2. */
const alternating: Scorer = async (inputs) =>
  inputs.map((input) => {
    const reward = Number(String(input.id).split("#")[1]) % 2;
    const correct = reward === 1;
    return { reward, correct, format: "ok", extracted: null, timedOut: false, stage: "verify" };
  });

let tok: GlmvTokenizer;
beforeAll(async () => {
  await initTensorEngine();
  tok = await loadTinyTokenizer();
});

describe("rlStep on LocalPolicy", () => {
  it("encodes each prompt of a step once: rescoring, rollouts and the update share it", async () => {
    const config = parseRlConfig({
      rl: {
        batchPrompts: 2,
        groupSize: 2,
        maxNewTokens: 10,
        thinkBudget: 4,
        refillRounds: 1,
        passes: 1,
        packContext: 256,
        maxSeqsPerMicroBatch: 4,
        curriculum: { rescorePerStep: 3 },
      },
    });
    const cfg = presetConfig(config.model);
    // the spy: every text the policy tokenizes; a rendered prompt is the only text that holds a user turn
    const texts: string[] = [];
    const spy: GlmvTokenizer = {
      ...tok,
      encode: (text) => {
        texts.push(text);
        return tok.encode(text);
      },
    };
    const promptEncodings = () => texts.filter((t) => t.includes("<|user|>")).length;
    const policy = new LocalPolicy(cfg, initParams(cfg, 2), spy, {
      batchSize: 4,
      promptLen: 48,
      context: 256,
      imagesPerRow: 4,
    });
    const engine = await createLocalEngine(config);
    const rescored: string[][] = [];
    const ctx: RlContext = {
      config: config.rl,
      seed: 7,
      policy,
      items: new Map(ITEMS.map((i) => [i.id, i])),
      toPrompt: promptFromItem,
      score: alternating,
      referenceLikelihood: (items) => {
        rescored.push(items.map((i) => i.id));
        return engine.referenceLikelihood!(policy, items);
      },
      state: initialTrainerState(initialPromptStats(ITEMS)),
    };
    try {
      for (const step of [1, 2]) {
        const before = promptEncodings();
        const { metrics, rollouts } = await rlStep(ctx, step);
        expect(metrics.gradNorm).toBeGreaterThan(0); // the update trained this step's rollouts
        const generated = new Set(rollouts.map((r) => r.promptId));
        const trained = new Set(rollouts.filter((r) => r.trained).map((r) => r.promptId));
        const touched = new Set([...rescored[step - 1]!, ...generated]);
        // RLCS draws the rescored prompts first: they are rescored, rolled out and trained in the one step
        expect([...trained].filter((id) => rescored[step - 1]!.includes(id))).toHaveLength(2);
        expect(promptEncodings() - before).toBe(touched.size);
      }
      // outside a step the encodings are gone: a rollout encodes its prompt again
      const before = promptEncodings();
      await policy.generate([promptFromItem(ITEMS[0]!)], { ...ROLLOUT, seed: 1 });
      expect(promptEncodings() - before).toBe(1);
    } finally {
      policy.dispose();
    }
  }, 120_000);
});

const ROLLOUT = { n: 2, temperature: 1, topP: 1, maxNewTokens: 10, thinkBudget: 4, style: "4.1v" as const };
