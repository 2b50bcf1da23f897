/**
 * `glmv rl [--out RUN_DIR] [options]`: the embedded default (design.md): build the synthetic suite, SFT the tiny
 * model, run RLCS-GRPO, evaluate on held-out items, print accuracy per family after SFT and after RL (and the
 * continued-SFT control), and write summary.json + report.html. `--sampler uniform` runs the control sampler;
 * `--compare` runs both samplers from the same SFT checkpoint; `--resume RUN_DIR` continues a crashed run.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { TASK_FAMILIES, type TaskFamily } from "../data/tasks/types.ts";
import { parseRlConfig, RlConfig, type RlConfigInput, SAMPLERS } from "../rl/config.ts";
import { RunStore } from "../rl/run-store.ts";
import { GlmvError } from "../util/errors.ts";
import type { Command } from "./main.ts";
import { createProgress } from "./progress.ts";

const USAGE = `usage: glmv rl [--out RUN_DIR] [options]

Builds the synthetic suite, SFTs the tiny model on the format, runs RLCS-GRPO from the SFT checkpoint, evaluates
on held-out items, runs continued SFT for the same wall time as the honest control, and writes summary.json and
report.html into the run folder.

options:
  --out DIR              run folder (default runs/rl-<timestamp>)
  --resume DIR           continue the run in DIR after a crash (its config.yaml wins over other options)
  --sampler rlcs|uniform prompt sampler (default rlcs)
  --compare              also run the other sampler from the same SFT checkpoint; writes compare.json
  --steps N              RL steps (default 60)
  --sft-steps N          SFT steps (default 300)
  --families a,b         task families (default counting,chart; any of ${TASK_FAMILIES.join(", ")})
  --seed N               run seed (default 1)
  --train-per-family N   training prompts per family
  --heldout N            held-out items in total (default 512)
  --eval-every N         held-out evaluation every N RL steps (0: only at the end)
  --checkpoint-every N   RL checkpoint every N steps
  --batch-prompts N      prompts per RL batch (default 16)
  --group-size N         rollouts per prompt (default 8)
  --lr X                 RL learning rate (default 5e-4)
  --no-control           skip the continued-SFT control (quick tests only)
  --config FILE          YAML with any config fields (options above win)
  -h, --help             show this help`;

const OPTIONS = {
  out: { type: "string" },
  resume: { type: "string" },
  sampler: { type: "string" },
  compare: { type: "boolean" },
  steps: { type: "string" },
  "sft-steps": { type: "string" },
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
  help: { type: "boolean", short: "h" },
} as const;

const num = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new GlmvError("bad_argument", `--${name} must be a number, got '${v}'`);
  return x;
};

/** Drop undefined fields so zod defaults apply. */
const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * The run config from the command line (and `--config`), validated.
 * @example rlConfigFromArgs({ steps: "5", families: "counting" }).rl.steps // 5
 */
export function rlConfigFromArgs(values: Record<string, string | boolean | undefined>) {
  const file =
    typeof values.config === "string"
      ? (parseYaml(readFileSync(values.config, "utf8")) as RlConfigInput)
      : {};
  const families =
    typeof values.families === "string" ? values.families.split(",").map((f) => f.trim()) : undefined;
  for (const f of families ?? []) {
    if (!TASK_FAMILIES.includes(f as TaskFamily))
      throw new GlmvError("bad_argument", `unknown family '${f}' (known: ${TASK_FAMILIES.join(", ")})`);
  }
  const sampler = values.sampler as string | undefined;
  if (sampler !== undefined && !SAMPLERS.includes(sampler as never))
    throw new GlmvError("bad_argument", `--sampler must be rlcs or uniform, got '${sampler}'`);
  const s = (k: string) => values[k] as string | undefined;
  const input = {
    ...file,
    ...defined({ seed: num(s("seed"), "seed"), control: values["no-control"] === true ? false : undefined }),
    data: {
      ...file.data,
      ...defined({
        families: families as TaskFamily[] | undefined,
        trainPerFamily: num(s("train-per-family"), "train-per-family"),
        heldoutItems: num(s("heldout"), "heldout"),
      }),
    },
    sft: { ...file.sft, ...defined({ steps: num(s("sft-steps"), "sft-steps") }) },
    rl: {
      ...file.rl,
      ...defined({
        steps: num(s("steps"), "steps"),
        sampler: sampler as "rlcs" | "uniform" | undefined,
        evalEvery: num(s("eval-every"), "eval-every"),
        checkpointEvery: num(s("checkpoint-every"), "checkpoint-every"),
        batchPrompts: num(s("batch-prompts"), "batch-prompts"),
        groupSize: num(s("group-size"), "group-size"),
        lr: num(s("lr"), "lr"),
      }),
    },
  };
  try {
    return parseRlConfig(input);
  } catch (e) {
    throw new GlmvError("bad_config", `invalid rl config: ${(e as Error).message}`, { cause: e });
  }
}

/** The validated config.yaml of an existing run. */
function readRunConfig(dir: string) {
  const store = RunStore.open(dir);
  try {
    return store.readConfig(RlConfig);
  } finally {
    store.close();
  }
}

export const rlCommand: Command = {
  summary: "SFT + RLCS-GRPO on the tiny model with held-out evaluation and report (the embedded default)",
  run: async (argv) => {
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({ args: argv, options: OPTIONS, strict: true }).values;
    } catch (e) {
      console.error(`${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const resumeDir = values.resume as string | undefined;
    // a resumed run keeps its own config.yaml: the engine's shapes must match its checkpoints
    const config = resumeDir ? readRunConfig(resumeDir) : rlConfigFromArgs(values);
    const outDir = resumeDir ?? (values.out as string | undefined) ?? `runs/rl-${Date.now()}`;
    const { runMainJob } = await import("../rl/main-job.ts");
    const { createLocalEngine } = await import("../rl/local-engine.ts");
    const engine = await createLocalEngine(config);
    const started = Date.now();
    const summary = await runMainJob({
      outDir,
      config,
      engine,
      resume: values.resume !== undefined,
      compare: values.compare === true,
      log: (line) => console.log(line),
      progress: (total, label) => createProgress(total, { label }),
    });
    console.log(
      `RL ${(100 * summary.rlAccuracy).toFixed(1)}% vs SFT ${(100 * summary.sftAccuracy).toFixed(1)}% vs continued SFT ${summary.continuedSftAccuracy === null ? "(skipped)" : `${(100 * summary.continuedSftAccuracy).toFixed(1)}%`}; signalShare ${summary.signalShare.toFixed(2)}, sampled signal rate ${summary.sampledSignalRate.toFixed(2)}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    return 0;
  },
};
