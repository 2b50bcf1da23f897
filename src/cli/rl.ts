/**
 * `glmv rl [--out RUN_DIR] [options]`: the embedded default (design.md): build the synthetic suite, SFT the tiny
 * model, run RLCS-GRPO, evaluate on held-out items, print accuracy per family after SFT and after RL (and the
 * continued-SFT control), and write summary.json + report.html. `--sampler uniform` runs the control sampler;
 * `--compare` runs both samplers from the same SFT checkpoint; `--resume RUN_DIR` continues a crashed run.
 * `--policy tinker --url URL` runs the same job on a Tinker-API trainer (`glmv serve trainer`, SkyRL, Tinker);
 * `--policy openai --url URL --eval-only` evaluates a model served by vLLM/SGLang on the held-out items.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { TASK_FAMILIES } from "../data/tasks/types.ts";
import { finishedSummary } from "../rl/job/main-job-checks.ts";
import type { MainJobEngine } from "../rl/job/main-job-engine.ts";
import { type RemotePolicyOptions, remotePolicySpec } from "../rl/job/policy-factory.ts";
import type { Summary } from "../rl/job/summary.ts";
import { type RlConfig, StoredRlConfig } from "../rl/loop/config.ts";
import { RunStore } from "../rl/loop/run-store.ts";
import { GlmvError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { type CliOptions, choiceArg, numberArg, parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { createProgress } from "./progress.ts";
import { refuseResumeConflicts, rlConfigFromArgs } from "./rl-config.ts";

const USAGE = `usage: glmv rl [--out RUN_DIR] [options]

Builds the synthetic suite, SFTs the tiny model on the format, runs RLCS-GRPO from the SFT checkpoint, evaluates
on held-out items, runs continued SFT for the same wall time as the honest control, and writes summary.json and
report.html into the run folder.

options:
  --out DIR              run folder (default runs/rl-<timestamp>)
  --resume DIR           continue the run in DIR after a crash with its own config.yaml (options that would
                         change that config are refused; a finished run is left as it is)
  --sampler rlcs|uniform prompt sampler (default rlcs)
  --compare              also run the other sampler from the same SFT checkpoint; writes compare.json
  --offline-difficulty auto|level|sft-likelihood
                         the curriculum's offline difficulty: task level, or 1 − the SFT model's likelihood
                         of each prompt's reference response (one forward per training prompt); auto
                         (default) scores where the engine can and uses the level elsewhere
  --rescore-per-step N   with the likelihood difficulty, random prompts rescored under the current policy
                         before each RLCS step (default 300; 0 = score once, after SFT)
  --steps N              RL steps (default 30)
  --sft-steps N          SFT steps (default 150)
  --families a,b         task families (default counting; any of ${TASK_FAMILIES.join(", ")})
  --seed N               run seed (default 1)
  --train-per-family N   training prompts per family (default 3000)
  --sft-items N          labelled SFT items per family, the first of the pool (default 32)
  --heldout N            held-out items in total (default 512)
  --eval-every N         held-out evaluation every N RL steps (0: only at the end)
  --checkpoint-every N   RL checkpoint every N steps
  --batch-prompts N      prompts per RL batch (default 16)
  --group-size N         rollouts per prompt (default 8)
  --lr X                 RL learning rate (default 5e-4)
  --no-control           skip the continued-SFT control (quick tests only)
  --config FILE          YAML with any config fields (options above win)
  -h, --help             show this help

remote engines:
  --policy local|tinker|openai
                         where rollouts and updates run (default local: the tiny model in this process)
  --url URL              tinker: the trainer's root (routes under /api/v1), e.g. http://127.0.0.1:8000 from
                         'glmv serve trainer'; openai: the server's base URL with /v1 (vLLM, SGLang)
  --base-model NAME      tinker: the model to train (default: the first one the server lists);
                         openai: the served model name (required)
  --api-key KEY          bearer key for the remote server (default: $GLMV_API_KEY)
  --lora-rank N          tinker: LoRA rank (default 0 = full fine-tuning; hosted Tinker needs a rank)
  --loss ppo|importance_sampling
                         tinker: the RL loss (default ppo = clip-higher; importance_sampling is unclipped)
  --remote-dir DIR       tinker: a folder for checkpoints on the server (default: the trainer's checkpoint root;
                         glmv serve trainer wants a path relative to its --checkpoint-root)
  --tokenizer DIR        tokenizer folder (default: glmv's tiny tokenizer, which glmv serve trainer uses)
  --image-tokens preset|glm
                         image placeholder counts: the run's model preset (default; glmv serve trainer) or
                         GLM-V's own processor (a real GLM-4.1V/4.5V behind the API)
  --eval-only            only evaluate the remote model on the held-out items; writes eval.json

With --policy tinker the whole job runs remotely: SFT through the cross_entropy loss, RL rollouts through asample,
updates through forward_backward/optim_step, checkpoints through save_weights/load_weights (on the server).
The trainer API cannot reset an optimiser: RL and the control load the SFT checkpoint weights-only into a fresh
model instead. --resume needs the same --policy/--url again. An OpenAI-compatible server only samples, so
--policy openai is refused without --eval-only (there is nothing to train; use --policy tinker to train).`;

const OPTIONS = {
  out: { type: "string" },
  resume: { type: "string" },
  sampler: { type: "string" },
  compare: { type: "boolean" },
  "offline-difficulty": { type: "string" },
  "rescore-per-step": { type: "string" },
  steps: { type: "string" },
  "sft-steps": { type: "string" },
  "sft-items": { type: "string" },
  families: { type: "string" },
  seed: { type: "string" },
  "train-per-family": { type: "string" },
  heldout: { type: "string" },
  "eval-every": { type: "string" },
  "checkpoint-every": { type: "string" },
  "batch-prompts": { type: "string" },
  "group-size": { type: "string" },
  lr: { type: "string" },
  config: { type: "string" },
  "no-control": { type: "boolean" },
  policy: { type: "string" },
  url: { type: "string" },
  "base-model": { type: "string" },
  "api-key": { type: "string" },
  "lora-rank": { type: "string" },
  loss: { type: "string" },
  "remote-dir": { type: "string" },
  tokenizer: { type: "string" },
  "eval-only": { type: "boolean" },
  "image-tokens": { type: "string" },
} satisfies CliOptions;

/**
 * The remote policy the command line asks for, or undefined for the local engine. `--policy openai` only samples,
 * so it is refused unless `--eval-only` says evaluation is all that is wanted.
 * @example remoteOptionsFromArgs({ policy: "tinker", url: "http://127.0.0.1:8000" })?.kind // "tinker"
 */
export function remoteOptionsFromArgs(
  values: Record<string, string | boolean | undefined>,
): (RemotePolicyOptions & { evalOnly: boolean; remoteDir?: string | undefined }) | undefined {
  const s = (k: string) => values[k] as string | undefined;
  const kind = choiceArg(values, "policy", ["local", "tinker", "openai"]) ?? "local";
  const evalOnly = values["eval-only"] === true;
  if (kind === "local") {
    const remoteOnly = ["url", "base-model", "api-key", "lora-rank", "loss", "remote-dir", "tokenizer"];
    for (const flag of [...remoteOnly, "image-tokens", "eval-only"])
      if (values[flag] !== undefined)
        throw new GlmvError("bad_argument", `--${flag} needs a remote engine (--policy tinker|openai)`);
    return undefined;
  }
  const url = s("url");
  if (!url) throw new GlmvError("bad_argument", `--policy ${kind} needs --url URL`);
  if (kind === "openai" && !evalOnly)
    throw new GlmvError(
      "bad_argument",
      "--policy openai only samples (an OpenAI-compatible server cannot train): add --eval-only to evaluate " +
        "the served model, or train through a Tinker-API trainer with --policy tinker --url URL",
    );
  if (kind === "openai" && !s("base-model"))
    throw new GlmvError("bad_argument", "--policy openai needs --base-model NAME (the served model name)");
  const loss = choiceArg(values, "loss", ["ppo", "importance_sampling"]);
  const imageTokens = choiceArg(values, "image-tokens", ["preset", "glm"]);
  const loraRank = numberArg(values, "lora-rank", { integer: true, min: 0 });
  return {
    kind,
    url,
    evalOnly,
    remoteDir: s("remote-dir"),
    baseModel: s("base-model"),
    apiKey: s("api-key") ?? (process.env.GLMV_API_KEY || undefined),
    loraRank,
    lossFn: loss,
    tokenizerDir: s("tokenizer"),
    imageTokens,
  };
}

/** `--eval-only`: greedy held-out evaluation of the remote model, written to `eval.json`. */
async function evaluateOnly(engine: MainJobEngine, config: RlConfig, outDir: string): Promise<number> {
  const { buildSuites } = await import("../rl/job/suites.ts");
  const { heldout } = buildSuites(config);
  await mkdir(outDir, { recursive: true });
  const policy = await engine.createPolicy(config.seed);
  try {
    const started = Date.now();
    const result = await engine.evaluate(policy, heldout);
    const line = { ...result, seconds: (Date.now() - started) / 1000 };
    await writeFileAtomic(join(outDir, "eval.json"), `${JSON.stringify(line, null, 2)}\n`);
    const families = Object.entries(result.perFamily).map(([f, a]) => `${f} ${(100 * a).toFixed(1)}%`);
    console.log(
      `held-out: ${(100 * result.accuracy).toFixed(1)}% (${families.join(", ")}; ${result.items} items); wrote ${join(outDir, "eval.json")}`,
    );
    return 0;
  } finally {
    await policy.dispose();
  }
}

/** The validated config.yaml of an existing run. */
function readRunConfig(dir: string) {
  const store = RunStore.open(dir);
  try {
    return store.readConfig(StoredRlConfig);
  } finally {
    store.close();
  }
}

/** The run's result in one line. */
/**
 * The run's last held-out responses scored again by the eval harness's `synthetic` task into OUT/heldout/
 * (results.json, samples.jsonl, report.html, as `glmv eval` writes them); a figure that disagrees with the
 * run's own is a warning, since both apply the same reward system to the same responses.
 */
async function heldoutThroughHarness(outDir: string, summary: Summary): Promise<void> {
  const { HELDOUT_RESPONSES } = await import("../rl/job/main-job-rl.ts");
  const responses = join(outDir, HELDOUT_RESPONSES);
  if (!existsSync(responses)) return;
  const [{ loadTask }, { scoreSavedResponses }] = await Promise.all([
    import("../eval/registry.ts"),
    import("./eval.ts"),
  ]);
  const task = await loadTask("synthetic");
  const { run, paths } = await scoreSavedResponses(task, responses, join(outDir, "heldout"), {
    extract: "auto",
  });
  const harness = run.summary.accuracy ?? 0;
  console.log(`held-out through the eval harness: ${(100 * harness).toFixed(1)}% → ${paths.results}`);
  if (Math.abs(harness - summary.rl.accuracy) > 1e-9) {
    console.error(
      `warning: the eval harness scored the held-out responses ${harness}, the run ${summary.rl.accuracy}`,
    );
  }
}

const summaryLine = ({ sft, rl, control }: Summary) =>
  `RL ${(100 * rl.accuracy).toFixed(1)}% vs SFT ${(100 * sft.accuracy).toFixed(1)}% vs continued SFT ${control === null ? "(skipped)" : `${(100 * control.accuracy).toFixed(1)}%`}; signalShare ${rl.signalShare.toFixed(2)}, sampled signal rate ${rl.sampledSignalRate.toFixed(2)}`;

export const rlCommand: Command = {
  summary: "SFT + RLCS-GRPO on the tiny model with held-out evaluation and report (the embedded default)",
  run: async (argv) => {
    const values = parseCliArgs(argv, OPTIONS);
    if (typeof values === "string") {
      console.error(`${values}\n${USAGE}`);
      return 2;
    }
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const remote = remoteOptionsFromArgs(values);
    const resumeDir = values.resume as string | undefined;
    // a resumed run keeps its own config.yaml: the engine's shapes must match its checkpoints
    const config = resumeDir ? readRunConfig(resumeDir) : rlConfigFromArgs(values);
    if (resumeDir) refuseResumeConflicts(values, config, resumeDir);
    const outDir = resumeDir ?? (values.out as string | undefined) ?? `runs/rl-${Date.now()}`;
    const { runMainJob } = await import("../rl/job/main-job.ts");
    const finished =
      resumeDir && !remote?.evalOnly ? finishedSummary(resumeDir, values.compare === true) : undefined;
    if (finished) {
      // nothing to resume: its summary.json and report.html stay as they are
      console.log(`${resumeDir} is already finished; nothing to resume. ${summaryLine(finished)}`);
      return 0;
    }
    let engine: MainJobEngine;
    if (remote) {
      const { createRemoteEngine } = await import("../rl/job/remote-engine.ts");
      engine = await createRemoteEngine(config, {
        policy: await remotePolicySpec(remote),
        remoteDir: remote.remoteDir,
      });
      console.log(`policy: ${remote.kind} at ${remote.url}`);
      if (remote.evalOnly) return evaluateOnly(engine, config, outDir);
    } else {
      const { createLocalEngine } = await import("../rl/job/local-engine.ts");
      engine = await createLocalEngine(config);
    }
    const started = Date.now();
    const summary = await runMainJob({
      outDir,
      config,
      engine,
      resume: values.resume !== undefined,
      compare: values.compare === true,
      log: (line) => console.log(line),
      warn: (line) => console.error(`warning: ${line}`),
      progress: (total, label) => createProgress(total, { label }),
    });
    console.log(`${summaryLine(summary)}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
    await heldoutThroughHarness(outDir, summary);
    return 0;
  },
};
