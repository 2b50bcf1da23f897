/**
 * `glmv sft [--out DIR] [--steps N] [--seed N] [options]`: SFT of the tiny model (or `--model tiny-moe`, the
 * GLM-4.5V layout with loss-free expert balancing) on the synthetic suite's response format, then a held-out
 * evaluation. Writes a checkpoint folder (config.json, model.safetensors, tokenizer.json) at DIR and
 * `sft-summary.json` beside its files.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { buildSuite } from "../data/tasks/suite.ts";
import { TASK_FAMILIES } from "../data/tasks/types.ts";
import { presetConfig } from "../model/config.ts";
import { MoeBalanceConfig } from "../model/moe-balance.ts";
import { initParams } from "../model/params.ts";
import { TINY_TOKENIZER_PATH } from "../model/tiny-tokenizer.ts";
import { createTokenizer } from "../model/tokenizer.ts";
import { LocalPolicy } from "../rl/engines/local/local-policy.ts";
import { runSft, type SftHooks, type SftResult, SftRunConfig, type SftStepLog } from "../rl/job/sft.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";

const USAGE = `usage: glmv sft [--out DIR] [--steps N] [--seed N] [options]

Supervised fine-tuning of the tiny GLM-V model on the synthetic verifiable tasks (think / answer / box format),
then greedy held-out accuracy per family. Writes a checkpoint folder at DIR.

options:
  --out DIR            checkpoint folder to write (default runs/sft)
  --model NAME         tiny | tiny-moe (default tiny; tiny-moe is the GLM-4.5V MoE layout)
  --steps N            optimiser steps (default 80)
  --seed N             seed of data, init and shuffling (default 1)
  --families a,b       task families (default all: ${TASK_FAMILIES.join(",")})
  --per-family N       training items per family (default 600)
  --heldout N          held-out items per family (default 64; 0 skips evaluation)
  --rows N             packed rows per step (default 12)
  --context N          tokens per packed row (default 256)
  --lr X               peak learning rate (default 3e-3, 10 warm-up steps, cosine decay)
  --eval-every N       held-out evaluation every N steps (default 0: only at the end)
  --style 4.1v|4.5v    response style (default 4.1v)
  --bias-rate X        tiny-moe: loss-free router bias update per step, u (default 1e-3; 0 freezes the bias)
  --aux-coef X         tiny-moe: sequence balance loss weight (default 1e-4; 0 turns it off)
  -h, --help           show this help`;

const sft = SftRunConfig.shape;
const moe = MoeBalanceConfig.shape;

/** A numeric flag checked by its field of the SFT schema (`runSft`'s); absent, the schema's default applies. */
const numberFlag = <T extends z.ZodType>(field: T) =>
  z.preprocess((v) => (v === undefined ? undefined : Number(v)), field);

/** The flags; the numbers are SftRunConfig's fields, with the command's own defaults where it sets one. */
const Options = z.object({
  out: z.string().min(1).default("runs/sft"),
  model: z.enum(["tiny", "tiny-moe"]).default("tiny"),
  /** 80 steps: the command's quick default (a main job's SFT takes `sft.steps`, 150). */
  steps: numberFlag(sft.steps)
    .refine((n) => n >= 1, "Too small: expected number to be >=1")
    .default(80),
  seed: numberFlag(sft.seed).default(1),
  families: z
    .string()
    .default(TASK_FAMILIES.join(","))
    .transform((s) => s.split(","))
    .pipe(z.array(z.enum(TASK_FAMILIES)).min(1)),
  perFamily: z.coerce.number().int().positive().default(600),
  heldout: z.coerce.number().int().min(0).default(64),
  rows: numberFlag(sft.rows),
  context: numberFlag(sft.context),
  lr: numberFlag(sft.lr),
  evalEvery: numberFlag(sft.evalEvery),
  style: sft.style,
  biasRate: numberFlag(moe.biasUpdateRate),
  auxCoef: numberFlag(moe.auxLossCoef),
});
type Options = z.infer<typeof Options>;

/** Parse argv; a string is a usage error, null means help was asked for. */
export function parseSftArgs(argv: string[]): Options | string | null {
  const values = parseCliArgs(argv, {
    out: { type: "string" },
    model: { type: "string" },
    steps: { type: "string" },
    seed: { type: "string" },
    families: { type: "string" },
    "per-family": { type: "string" },
    heldout: { type: "string" },
    rows: { type: "string" },
    context: { type: "string" },
    lr: { type: "string" },
    "eval-every": { type: "string" },
    style: { type: "string" },
    "bias-rate": { type: "string" },
    "aux-coef": { type: "string" },
  });
  if (typeof values === "string") return values;
  if (values.help) return null;
  const parsed = Options.safeParse({
    out: values.out,
    model: values.model,
    steps: values.steps,
    seed: values.seed,
    families: values.families,
    perFamily: values["per-family"],
    heldout: values.heldout,
    rows: values.rows,
    context: values.context,
    lr: values.lr,
    evalEvery: values["eval-every"],
    style: values.style,
    biasRate: values["bias-rate"],
    auxCoef: values["aux-coef"],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `option --${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`;
  }
  return parsed.data;
}

async function run(argv: string[]): Promise<number> {
  const o = parseSftArgs(argv);
  if (o === null) {
    console.log(USAGE);
    return 0;
  }
  if (typeof o === "string") {
    console.error(`glmv sft: ${o}\n${USAGE}`);
    return 2;
  }
  await initTensorEngine();
  const tokenizerJson = JSON.parse(await readFile(TINY_TOKENIZER_PATH, "utf8")) as unknown;
  const tok = createTokenizer(tokenizerJson);
  const cfg = presetConfig(o.model);
  const train = buildSuite({ seed: o.seed, families: o.families, perFamily: o.perFamily, split: "train" });
  const heldout = buildSuite({ seed: o.seed, families: o.families, perFamily: o.heldout, split: "heldout" });
  const policy = new LocalPolicy(cfg, initParams(cfg, o.seed), tok, { style: o.style }, { tokenizerJson });
  try {
    const result = await runSft(
      policy,
      train,
      heldout,
      {
        steps: o.steps,
        rows: o.rows,
        context: o.context,
        lr: o.lr,
        warmupSteps: Math.min(10, o.steps - 1),
        evalEvery: o.evalEvery,
        seed: o.seed,
        style: o.style,
        moeBalance: { biasUpdateRate: o.biasRate, auxLossCoef: o.auxCoef },
      },
      progressPrinter(o.steps),
    );
    await policy.save(o.out);
    const summary = sftSummary(o, result);
    await writeFileAtomic(join(o.out, "sft-summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`checkpoint written to ${o.out}`);
    return 0;
  } finally {
    policy.dispose();
  }
}

/** Progress lines on stdout: steps 1, every 10th and the last of `steps`, and every held-out evaluation. */
function progressPrinter(steps: number): SftHooks {
  return {
    onStep: (l) => {
      if (l.step === 1 || l.step % 10 === 0 || l.step === steps)
        console.log(
          `step ${l.step}/${steps} loss ${l.loss.toFixed(4)} lr ${l.lr.toExponential(2)} samples ${l.samples} fill ${l.fill.toFixed(2)} ${Math.round(l.tokensPerSecond)} tok/s${loadText(l.expertLoad)}`,
        );
    },
    onEval: (step, r) =>
      console.log(
        `held-out @${step}: accuracy ${r.accuracy.toFixed(3)} format ${r.formatOk.toFixed(2)} | ${Object.entries(
          r.perFamily,
        )
          .map(([f, c]) => `${f} ${c.accuracy.toFixed(2)}`)
          .join(" ")}`,
      ),
  };
}

/** What `sft-summary.json` holds: the run's settings, speed, last loss, MoE balance and held-out accuracy. */
function sftSummary(o: Options, result: SftResult) {
  const last = result.evals.at(-1)?.report;
  const lastLoad = result.logs.at(-1)?.expertLoad;
  return {
    model: o.model,
    steps: o.steps,
    seed: o.seed,
    families: o.families,
    tokensPerSecond: result.tokensPerSecond,
    fill: result.fill,
    finalLoss: result.logs.at(-1)?.loss,
    ...(lastLoad
      ? {
          moeBalance: { biasUpdateRate: o.biasRate, auxLossCoef: o.auxCoef },
          // the last step's balance, per MoE layer (1 = even)
          expertLoad: lastLoad.map((s) => ({
            layer: s.layer,
            maxOverMean: s.maxOverMean,
            idleExperts: s.idleExperts.length,
          })),
        }
      : {}),
    heldout: last
      ? {
          accuracy: last.accuracy,
          formatOk: last.formatOk,
          perFamily: Object.fromEntries(Object.entries(last.perFamily).map(([f, c]) => [f, c.accuracy])),
        }
      : null,
  };
}

/** " | load max/mean L1 1.52 L2 1.88" for a MoE step log, "" otherwise. */
function loadText(load: SftStepLog["expertLoad"]): string {
  if (!load?.length) return "";
  return ` | load max/mean ${load.map((s) => `L${s.layer} ${s.maxOverMean.toFixed(2)}`).join(" ")}`;
}

/** The `glmv sft` command. */
export const sftCommand: Command = {
  summary: "SFT the tiny model on the synthetic task format; write a checkpoint",
  run,
};
