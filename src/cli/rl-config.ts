/**
 * `glmv rl`'s config from its command line: the `--config` YAML file with the config flags over it, validated
 * strictly (an unknown key or a wrong value is one line naming the flag, or the key, file and line), and, for
 * `--resume`, the check that no flag asks for a config other than the run's own.
 */
import { resolve } from "node:path";
import { TASK_FAMILIES, type TaskFamily } from "../data/tasks/types.ts";
import { OFFLINE_DIFFICULTIES, RlConfig, SAMPLERS } from "../rl/loop/config.ts";
import { GlmvError } from "../util/errors.ts";
import { readYamlFile } from "../util/yaml-file.ts";
import { type ZodLineContext, zodErrorLine } from "../util/zod-error.ts";
import { type CliValues, choiceArg, numberArg } from "./args.ts";

/** A config option: its flag, the config path it sets, and how its text becomes a value. */
type ConfigFlag = { flag: string; path: readonly string[]; value: (values: CliValues) => unknown };

const numberFlag = (flag: string, ...path: string[]): ConfigFlag => ({
  flag,
  path,
  value: (v) => numberArg(v, flag),
});

/** Every option that sets a config field (the others choose the engine, the folder or --compare). */
const CONFIG_FLAGS: readonly ConfigFlag[] = [
  numberFlag("seed", "seed"),
  { flag: "no-control", path: ["control"], value: (v) => (v["no-control"] === true ? false : undefined) },
  {
    flag: "families",
    path: ["data", "families"],
    value: (v) => (typeof v.families === "string" ? familiesArg(v.families) : undefined),
  },
  numberFlag("train-per-family", "data", "trainPerFamily"),
  numberFlag("sft-items", "data", "sftItemsPerFamily"),
  numberFlag("heldout", "data", "heldoutItems"),
  numberFlag("sft-steps", "sft", "steps"),
  numberFlag("steps", "rl", "steps"),
  { flag: "sampler", path: ["rl", "sampler"], value: (v) => choiceArg(v, "sampler", SAMPLERS) },
  numberFlag("eval-every", "rl", "evalEvery"),
  numberFlag("checkpoint-every", "rl", "checkpointEvery"),
  numberFlag("batch-prompts", "rl", "batchPrompts"),
  numberFlag("group-size", "rl", "groupSize"),
  numberFlag("lr", "rl", "lr"),
  {
    flag: "offline-difficulty",
    path: ["rl", "curriculum", "offline"],
    value: (v) => choiceArg(v, "offline-difficulty", OFFLINE_DIFFICULTIES),
  },
  numberFlag("rescore-per-step", "rl", "curriculum", "rescorePerStep"),
];

function familiesArg(text: string): TaskFamily[] {
  const families = text.split(",").map((f) => f.trim());
  for (const f of families) {
    if (!TASK_FAMILIES.includes(f as TaskFamily))
      throw new GlmvError("bad_argument", `unknown family '${f}' (known: ${TASK_FAMILIES.join(", ")})`);
  }
  return families as TaskFamily[];
}

const isMapping = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && !Array.isArray(x);

/** Set `value` at `path` in `target`, creating (copies of) the mappings on the way. */
function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [key, ...rest] = path;
  if (key === undefined) return;
  if (rest.length === 0) {
    target[key] = value;
    return;
  }
  const child = isMapping(target[key]) ? { ...target[key] } : {};
  target[key] = child;
  setPath(child, rest, value);
}

const samePath = (a: readonly PropertyKey[], b: readonly PropertyKey[]) =>
  a.length === b.length && a.every((k, i) => String(k) === b[i]);

/**
 * What the command line asks of the config, unvalidated: the `--config` file's fields with the flags over them, and
 * how to name any path of it in a message (the flag that set it, or the file).
 */
function configInputFromArgs(values: CliValues) {
  const file = typeof values.config === "string" ? readYamlFile(values.config) : undefined;
  if (file && file.value != null && !isMapping(file.value))
    throw new GlmvError(
      "bad_config",
      `${values.config} must be a mapping of config keys (seed, data, sft, rl…)`,
      {
        where: values.config as string,
      },
    );
  const input: Record<string, unknown> = structuredClone((file?.value as Record<string, unknown>) ?? {});
  const given: ConfigFlag[] = [];
  for (const f of CONFIG_FLAGS) {
    const value = f.value(values);
    if (value === undefined) continue;
    setPath(input, f.path, value);
    given.push(f);
  }
  const flagOf = (path: readonly PropertyKey[]) => given.find((f) => samePath(path, f.path));
  const ctx: ZodLineContext = {
    source: values.config as string | undefined,
    nameOf: (path) => {
      const f = flagOf(path);
      return f && `--${f.flag}`;
    },
    lineOf: file?.lineOf,
  };
  return { input, ctx, flagOf };
}

/**
 * The run config from the command line (and `--config`), validated: a wrong value or an unknown key is a one-line
 * `bad_config` / `bad_argument` error naming the flag, or the key and file.
 * @example rlConfigFromArgs({ steps: "5", families: "counting" }).rl.steps // 5
 */
export function rlConfigFromArgs(values: CliValues): RlConfig {
  const { input, ctx, flagOf } = configInputFromArgs(values);
  const parsed = RlConfig.safeParse(input);
  if (parsed.success) return parsed.data;
  const line = zodErrorLine(RlConfig, parsed.error, input, ctx);
  throw new GlmvError(flagOf(line.path) ? "bad_argument" : "bad_config", line.message, {
    ...(line.where ? { where: line.where } : {}),
    cause: parsed.error,
  });
}

/** Every leaf (a value that is not a mapping) of `input`, with its path. */
function leaves(input: unknown, path: string[] = []): { path: string[]; value: unknown }[] {
  if (!isMapping(input)) return [{ path, value: input }];
  return Object.entries(input).flatMap(([k, v]) => leaves(v, [...path, k]));
}

const valueAt = (o: unknown, path: readonly string[]) =>
  path.reduce<unknown>((v, k) => (isMapping(v) ? v[k] : undefined), o);

/**
 * `--resume DIR` keeps the run's config.yaml (the engine's shapes must match its checkpoints), so a config flag (or
 * `--config` field) that asks for something else is refused rather than ignored; one equal to the run's is fine.
 */
export function refuseResumeConflicts(values: CliValues, run: RlConfig, runDir: string): void {
  if (typeof values.out === "string" && resolve(values.out) !== resolve(runDir))
    throw new GlmvError(
      "bad_argument",
      `--out ${values.out} conflicts with --resume ${runDir} (a run resumes in its own folder)`,
    );
  rlConfigFromArgs(values); // the flags must be valid values first
  const { input, ctx } = configInputFromArgs(values);
  for (const { path, value } of leaves(input)) {
    const theirs = valueAt(run, path);
    if (JSON.stringify(theirs) === JSON.stringify(value)) continue;
    const name = ctx.nameOf?.(path);
    const what = name ?? `${path.join(".")} in ${values.config}`;
    throw new GlmvError(
      "bad_argument",
      `${what} is ${JSON.stringify(value)} but the run in ${runDir} has ${path.join(".")}: ${JSON.stringify(theirs)}; ` +
        "--resume keeps the run's config.yaml (drop the option, or start a new run with --out)",
      name ? {} : { where: path.join(".") },
    );
  }
}
