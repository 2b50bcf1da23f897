/**
 * The main job's engine on a remote policy (`glmv rl --policy tinker|openai --url URL`): the same pipeline as the
 * local engine (suite, SFT, RLCS-GRPO, held-out evaluation, control, report) with every rollout and update going
 * through the remote engine.
 *
 * - SFT: teacher forcing on `sftTarget` through the trainer API's `cross_entropy` loss (loss on response tokens
 *   only), a shuffled stream of examples, warm-up + cosine learning rate and AdamW settings as the local SFT.
 * - Evaluation: greedy sampling through the policy, scored by the reward system (as the local engine does).
 * - Rewards for RL: the same `RewardPool` as the local engine. Updates drop media placeholders (`withoutMediaTokens`).
 * - Image tokens per prompt: the run's model preset (`presetImageTokens`), unless the spec says otherwise.
 * - The curriculum's reference likelihood π(y*|x) (`referenceLikelihood`, a trainer only): the reference tokens
 *   exactly as SFT trains them, scored by the trainer's prompt logprobs (`TinkerPolicy.sequenceLogprobs`). A trainer
 *   without prompt logprobs (SkyRL's) fails it with `engine_error`, on which `offline: auto` keeps the task level.
 *
 * What a remote trainer cannot do, and how it is handled:
 * - "Reset the optimiser" has no Tinker call. The main job always resets right after loading a checkpoint into a
 *   freshly created model, so a load is deferred to the next remote call and a reset turns it into a weights-only
 *   `load_weights(optimizer: false)`: the fresh model's optimiser state stays fresh. A reset on a model whose
 *   optimiser has already stepped (or loaded state) cannot be honoured and throws `engine_error`.
 * - Checkpoints are written by the server, at a fresh name per save (`glmv-<uuid>`) relative to its checkpoint root
 *   (`glmv serve trainer` refuses absolute paths and `..`), or under `remoteDir` when one is given (a folder the
 *   server accepts: relative to glmv's root, any server path for others). The local checkpoint folder holds
 *   `remote-checkpoint.json` pointing at it. A folder without the marker (older runs) names its own absolute path.
 * - An OpenAI-compatible policy (vLLM, SGLang) only samples: SFT, updates and checkpoints throw `engine_error`;
 *   evaluation works (`glmv rl --eval-only`).
 */
import { randomUUID } from "node:crypto";
import { existsSync, promises as fsp, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promptFromItem } from "../../data/task-encoding.ts";
import { sftTarget } from "../../data/tasks/cot.ts";
import type { TaskItem } from "../../data/tasks/types.ts";
import { presetConfig } from "../../model/config.ts";
import { mediaTokenIds } from "../../model/encode.ts";
import { presetImageTokens } from "../../model/image-tokens.ts";
import { AdamWConfig, warmupCosine } from "../../tensor/adamw.ts";
import { GlmvError } from "../../util/errors.ts";
import { writeFileAtomic } from "../../util/fs.ts";
import { createRng } from "../../util/rng.ts";
import { TinkerPolicy } from "../engines/tinker/tinker-policy.ts";
import type { RlConfig } from "../loop/config.ts";
import type {
  Policy,
  PolicyPrompt,
  Rollout,
  RolloutParams,
  UpdateBatch,
  UpdateMetrics,
  UpdateParams,
} from "../loop/policy.ts";
import { evaluateHeldout, median, referenceLikelihoods, rewardScorer } from "./engine-common.ts";
import type { MainJobEngine } from "./main-job-engine.ts";
import { createPolicy, type PolicySpec } from "./policy-factory.ts";
import { SftRunConfig } from "./sft.ts";

export type RemoteEngineSpec = {
  /** The remote policy: a Tinker-API trainer, or an OpenAI-compatible server (sampling only). */
  policy: Exclude<PolicySpec, { kind: "local" }>;
  /** Server-side folder for checkpoints (default: the server's checkpoint root itself). */
  remoteDir?: string | undefined;
  /** Examples per SFT step (default 48: what the local SFT's 12 packed rows of 256 tokens hold). */
  sftBatch?: number | undefined;
};

/** The file a local checkpoint folder holds when the weights live in a server-side folder. */
export const REMOTE_CHECKPOINT_FILE = "remote-checkpoint.json";

/**
 * A remote policy as the main job uses it: deferred loads (so an optimiser reset can become a weights-only load),
 * checkpoint paths the server understands, the media guard on updates, and SFT steps.
 */
export class RemotePolicy implements Policy {
  private pendingLoad: { path: string; optimizer: boolean } | undefined;
  /** The server-side optimiser has state (a step was taken, or a checkpoint's state was loaded). */
  private optimizerUsed = false;

  constructor(
    readonly inner: Policy,
    private readonly media: ReadonlySet<number>,
    private readonly remoteDir: string | undefined,
  ) {}

  /** The trainer-API policy behind this one; `engine_error` when the engine only samples. */
  private trainer(what: string): TinkerPolicy {
    if (this.inner instanceof TinkerPolicy) return this.inner;
    throw new GlmvError(
      "engine_error",
      `${what} needs a trainer: an OpenAI-compatible server only samples (use --policy tinker)`,
    );
  }

  private async flush(): Promise<void> {
    const load = this.pendingLoad;
    if (!load) return;
    this.pendingLoad = undefined;
    await this.trainer("loading a checkpoint").load(load.path, load.optimizer);
    if (load.optimizer) this.optimizerUsed = true;
  }

  async generate(prompts: readonly PolicyPrompt[], params: RolloutParams): Promise<Rollout[][]> {
    await this.flush();
    return this.inner.generate(prompts, params);
  }

  async update(batch: UpdateBatch, params: UpdateParams): Promise<UpdateMetrics> {
    await this.flush();
    const policy = this.trainer("an RL update");
    this.optimizerUsed = true;
    return policy.update(withoutMediaTokens(batch, this.media), params);
  }

  /** One SFT step (see `TinkerPolicy.supervisedStep`). */
  async supervisedStep(...args: Parameters<TinkerPolicy["supervisedStep"]>) {
    await this.flush();
    const policy = this.trainer("SFT");
    this.optimizerUsed = true;
    return policy.supervisedStep(...args);
  }

  /**
   * Ask for a fresh optimiser state. Honoured when a load is pending (it becomes weights-only) or nothing has
   * touched the optimiser yet; otherwise the trainer API has no way to do it and this throws.
   */
  resetOptimizer(): void {
    if (this.pendingLoad) this.pendingLoad = { ...this.pendingLoad, optimizer: false };
    else if (this.optimizerUsed)
      throw new GlmvError(
        "engine_error",
        "the trainer API cannot reset a used optimiser state; reset right after loading a checkpoint",
      );
  }

  async save(dir: string): Promise<void> {
    await this.flush();
    const policy = this.trainer("saving a checkpoint");
    const name = `glmv-${randomUUID()}`;
    const path = this.remoteDir === undefined ? name : `${this.remoteDir.replace(/\/+$/, "")}/${name}`;
    await policy.save(path);
    await fsp.mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, REMOTE_CHECKPOINT_FILE), `${JSON.stringify({ path })}\n`);
  }

  /** Per-token logprobs of each sequence's response under the current weights (see `TinkerPolicy.sequenceLogprobs`). */
  async sequenceLogprobs(...args: Parameters<TinkerPolicy["sequenceLogprobs"]>): Promise<number[][]> {
    await this.flush();
    return this.trainer("scoring sequences").sequenceLogprobs(...args);
  }

  /** Deferred to the next remote call, so a following `resetOptimizer` can make it weights-only. */
  async load(dir: string): Promise<void> {
    this.trainer("loading a checkpoint");
    this.pendingLoad = { path: serverPathOf(dir), optimizer: true };
  }

  async dispose(): Promise<void> {
    this.pendingLoad = undefined;
    await this.inner.dispose();
  }
}

/** Where the server finds the checkpoint saved into local folder `dir`. */
export function serverPathOf(dir: string): string {
  const marker = join(dir, REMOTE_CHECKPOINT_FILE);
  if (!existsSync(marker)) return resolve(dir);
  const { path } = JSON.parse(readFileSync(marker, "utf8")) as { path?: unknown };
  if (typeof path !== "string")
    throw new GlmvError("checkpoint_corrupt", "remote checkpoint marker without a path", { where: marker });
  return path;
}

const asRemote = (p: Policy): RemotePolicy => {
  if (p instanceof RemotePolicy) return p;
  throw new GlmvError("bad_input", "the remote engine was given a policy it did not create");
};

/**
 * Rollouts of a remote engine may sample a media placeholder (`<|image|>`, `<|video|>`, their begin/end markers;
 * the local policy bans them at sampling), above all from a barely trained model at temperature 1. The packed
 * update cannot replay such a response (the placeholder has no image behind it), so its sample is cut before the
 * first placeholder and gets advantage 0: it still fills its slot in the batch but carries no gradient. Its reward
 * was already scored on the full text.
 */
export function withoutMediaTokens(batch: UpdateBatch, mediaIds: ReadonlySet<number>): UpdateBatch {
  const samples = batch.samples.map((s) => {
    const cut = s.rollout.tokens.findIndex((t) => mediaIds.has(t));
    if (cut < 0) return s;
    const r = s.rollout;
    const rollout = {
      ...r,
      tokens: r.tokens.slice(0, cut),
      logprobs: r.logprobs.slice(0, cut),
      injected: r.injected.slice(0, cut),
    };
    return { ...s, rollout, advantage: 0 };
  });
  return { ...batch, samples };
}

/**
 * @example
 * const engine = await createRemoteEngine(config, {
 *   policy: { kind: "tinker", url: "http://127.0.0.1:8000", tokenizer, baseModel: "glmv-tiny" },
 * });
 * await runMainJob({ outDir, config, engine });
 */
export async function createRemoteEngine(config: RlConfig, spec: RemoteEngineSpec): Promise<MainJobEngine> {
  const rl = config.rl;
  const sftDefaults = SftRunConfig.parse({});
  const adamw = AdamWConfig.parse({});
  const adam = {
    beta1: adamw.beta1,
    beta2: adamw.beta2,
    eps: adamw.eps,
    weight_decay: adamw.weightDecay,
    grad_clip_norm: adamw.clipNorm,
  };
  const sftBatch = spec.sftBatch ?? 48;
  const tinker = spec.policy.kind === "tinker" ? spec.policy : undefined;
  const imageTokens = tinker?.options?.imageTokens ?? presetImageTokens(presetConfig(config.model));
  const media = new Set(tinker ? mediaTokenIds(tinker.tokenizer) : []);
  let sftSecondsPerStep: number | undefined;
  /** An item's reference response as SFT trains it: its `sftTarget`, then `<|endoftext|>`. */
  const reference = (item: TaskItem): number[] => {
    if (!tinker) throw new GlmvError("engine_error", "reference responses need a trainer (--policy tinker)");
    const tok = tinker.tokenizer;
    return [...tok.encode(sftTarget(item, rl.style)), tok.special.endOfText];
  };
  /** π(y*|x) per item, through the trainer's prompt logprobs (the local engine's teacher-forced forward). */
  const referenceLikelihood = (policy: Policy, items: readonly TaskItem[]): Promise<number[]> =>
    referenceLikelihoods(items, reference, (seqs) => asRemote(policy).sequenceLogprobs(seqs, rl.style));

  return {
    createPolicy: async (seed) => {
      const inner = tinker
        ? await createPolicy({ ...tinker, options: { ...tinker.options, seed, imageTokens } })
        : await createPolicy(spec.policy);
      return new RemotePolicy(inner, media, spec.remoteDir);
    },
    resetOptimizer: (policy) => asRemote(policy).resetOptimizer(),
    sft: async (policy, items, opts) => {
      const remote = asRemote(policy);
      if (!tinker) throw new GlmvError("engine_error", "SFT needs a trainer (--policy tinker)");
      const t0 = performance.now();
      const stepSeconds: number[] = [];
      const steps = opts.steps ?? Math.max(1, Math.round((opts.seconds ?? 0) / (sftSecondsPerStep ?? 1)));
      const next = exampleStream(items, sftBatch, opts.seed);
      for (let step = 0; step < steps; step++) {
        const started = performance.now();
        const batch = next().map((item) => ({ prompt: promptFromItem(item), response: reference(item) }));
        const lr = warmupCosine(step, {
          peakLr: opts.lr,
          warmupSteps: Math.min(opts.warmupSteps, Math.max(0, steps - 1)),
          totalSteps: steps,
          minLr: Math.min(sftDefaults.minLr, opts.lr),
        });
        await remote.supervisedStep(batch, { lr, style: rl.style, adam });
        stepSeconds.push((performance.now() - started) / 1000);
        opts.onStep?.(step + 1);
      }
      // the median step sets the continued-SFT control's step count for a wall time (as the local engine does)
      if (opts.steps !== undefined) sftSecondsPerStep = median(stepSeconds);
      return { steps, seconds: (performance.now() - t0) / 1000 };
    },
    evaluate: (policy, items) => evaluateHeldout(policy, items, config, { sampled: false }),
    toPrompt: promptFromItem,
    // only a trainer scores sequences; without the method the curriculum uses the task level (offline: auto)
    ...(tinker ? { referenceLikelihood } : {}),
    scorer: rewardScorer(config),
  };
}

/**
 * Batches of `size` items from an endless stream, reshuffled every epoch from `seed` (a batch may span epochs).
 * @example const next = exampleStream(items, 48, 1); next().length // 48
 */
export function exampleStream(items: readonly TaskItem[], size: number, seed: number): () => TaskItem[] {
  if (items.length === 0) throw new GlmvError("bad_input", "SFT needs at least one item");
  const rng = createRng(seed);
  let order: TaskItem[] = [];
  let at = 0;
  return () => {
    const batch: TaskItem[] = [];
    while (batch.length < size) {
      if (at >= order.length) {
        order = rng.shuffle(items);
        at = 0;
      }
      batch.push(order[at++]!);
    }
    return batch;
  };
}
