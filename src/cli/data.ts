/**
 * `glmv data run` and `glmv data stages`: run a curation pipeline (resumable, shardable across scheduler tasks)
 * and list what a pipeline can use. `plan` and `report` live in data-plan.ts.
 * Exit codes (failure.ts): 0 done; 1 the job failed; 2 a usage, pipeline-file or input mistake.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { loadPipeline, loadRegistry } from "../curate/pipeline.ts";
import { runPipeline } from "../curate/run/runner.ts";
import { formatSummaryTable } from "../curate/run/summary.ts";
import { GlmvError } from "../util/errors.ts";
import { type CliValues, numberArg, parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { dataProgress } from "./data-progress.ts";
import { EXIT_OK, EXIT_USAGE } from "./failure.ts";

const RUN_USAGE = `usage: glmv data run PIPELINE.yaml --out DIR [--shard I --of N] [--phase P] [--json]

Runs a curation pipeline: the input's shards through every stage, each shard of each stage written atomically
with a done-marker, so a rerun (after a crash or kill -9) skips finished shards and gives the same output.
Writes DIR/output/ (the final items), DIR/shards/ (each stage's shards and dropped samples), DIR/summary.json,
and prints kept/dropped counts per stage.

options:
  --out DIR     run folder (created if missing; rerun into the same folder to resume)
  --shard I     this task's index, 0-based (default $SLURM_ARRAY_TASK_ID, else $JOB_COMPLETION_INDEX)
  --of N        the number of tasks (default $SLURM_ARRAY_TASK_COUNT); the task runs shards s with s mod N == I
  --phase P     run one phase only (phases split at stages that read every shard; see glmv data plan)
  --json        print the summary as JSON instead of a table
  -h, --help    show this help`;

const STAGES_USAGE = `usage: glmv data stages [--module FILE] [--json]

Lists the stages (use: in a pipeline) and sources (input.generate) glmv knows, with their option fields.

options:
  --module FILE  also list the stages and sources a module of your own exports (as a pipeline's modules:)
  --json         one JSON object {stages, sources}, each entry {name, summary, options}
  -h, --help     show this help`;

function usageError(command: string, message: string, usage: string): number {
  console.error(`glmv data ${command}: ${message}\n\n${usage}`);
  return EXIT_USAGE;
}

/** I and N from the flags or the scheduler's environment (Slurm job arrays, Kubernetes Indexed Jobs). */
export function taskIndex(
  values: CliValues,
  env: NodeJS.ProcessEnv = process.env,
): { shard?: number; of?: number } {
  const fromEnv = (name: string, flag: string) => {
    const raw = env[name];
    return raw === undefined || raw === ""
      ? undefined
      : numberArg({ [flag]: raw }, flag, { integer: true, min: 0 });
  };
  const shard =
    numberArg(values, "shard", { integer: true, min: 0 }) ??
    fromEnv("SLURM_ARRAY_TASK_ID", "shard") ??
    fromEnv("JOB_COMPLETION_INDEX", "shard");
  const of = numberArg(values, "of", { integer: true, min: 1 }) ?? fromEnv("SLURM_ARRAY_TASK_COUNT", "of");
  if (shard === undefined && of === undefined) return {};
  if (of === undefined)
    throw new GlmvError("bad_argument", `--shard ${shard} needs --of N (or $SLURM_ARRAY_TASK_COUNT)`);
  if (shard === undefined)
    throw new GlmvError(
      "bad_argument",
      `--of ${of} needs --shard I (or $SLURM_ARRAY_TASK_ID / $JOB_COMPLETION_INDEX)`,
    );
  if (shard >= of) throw new GlmvError("bad_argument", `--shard must be below --of (${of}), got ${shard}`);
  return { shard, of };
}

/** The pipeline file: the one positional argument. */
export function positionalFile(argv: string[], options: Record<string, { type: "string" | "boolean" }>) {
  const parsed = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { ...options, help: { type: "boolean", short: "h" } },
  });
  return { values: parsed.values as CliValues, files: parsed.positionals };
}

async function runRun(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof positionalFile>;
  try {
    parsed = positionalFile(argv, {
      out: { type: "string" },
      shard: { type: "string" },
      of: { type: "string" },
      phase: { type: "string" },
      json: { type: "boolean" },
    });
  } catch (e) {
    return usageError("run", (e as Error).message, RUN_USAGE);
  }
  const { values, files } = parsed;
  if (values.help) {
    console.log(RUN_USAGE);
    return EXIT_OK;
  }
  if (files.length !== 1)
    return usageError("run", `expected one pipeline file, got ${files.length}`, RUN_USAGE);
  if (typeof values.out !== "string") return usageError("run", "--out DIR is required", RUN_USAGE);
  const task = taskIndex(values);
  const phase = numberArg(values, "phase", { integer: true, min: 0 });
  const pipeline = await loadPipeline(files[0]!);
  const progress = dataProgress();
  try {
    const summary = await runPipeline(pipeline, { out: values.out, ...task, phase, ...progress.callbacks });
    progress.stop();
    console.log(values.json ? JSON.stringify(summary) : formatSummaryTable(summary));
  } finally {
    progress.stop();
  }
  return EXIT_OK;
}

/** A zod object's fields as `name: type (default)` text, for the listing. */
function optionFields(schema: unknown): string[] {
  const json = (() => {
    try {
      return (schema as { toJSONSchema?: () => unknown }).toJSONSchema?.() as
        | {
            properties?: Record<string, { type?: string; default?: unknown; enum?: unknown[] }>;
            required?: string[];
          }
        | undefined;
    } catch {
      return undefined;
    }
  })();
  return Object.entries(json?.properties ?? {}).map(([name, p]) => {
    const type = p.enum ? p.enum.join("|") : (p.type ?? "any");
    const dflt =
      p.default !== undefined
        ? ` = ${JSON.stringify(p.default)}`
        : json?.required?.includes(name)
          ? " (required)"
          : "";
    return `${name}: ${type}${dflt}`;
  });
}

async function runStages(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, { json: { type: "boolean" }, module: { type: "string" } });
  if (typeof values === "string") return usageError("stages", values, STAGES_USAGE);
  if (values.help) {
    console.log(STAGES_USAGE);
    return EXIT_OK;
  }
  const modules = typeof values.module === "string" ? [pathToFileURL(resolve(values.module)).href] : [];
  const registry = await loadRegistry(modules);
  const describe = (d: { name: string; summary: string; options: unknown }) => ({
    name: d.name,
    summary: d.summary,
    options: optionFields(d.options),
  });
  const stages = registry.stages.map(describe);
  const sources = registry.sources.map(describe);
  if (values.json) {
    console.log(JSON.stringify({ stages, sources }));
    return EXIT_OK;
  }
  const block = (title: string, rows: ReturnType<typeof describe>[]) => [
    `${title}:`,
    ...(rows.length ? rows : [{ name: "(none)", summary: "", options: [] }]).flatMap((r) => [
      `  ${r.name}  ${r.summary}`,
      ...(r.options.length ? [`      ${r.options.join("; ")}`] : []),
    ]),
  ];
  console.log(
    [...block("stages (use: NAME)", stages), "", ...block("sources (input.generate: NAME)", sources)].join(
      "\n",
    ),
  );
  return EXIT_OK;
}

export const dataRunCommand: Command = {
  summary: "run a data-curation pipeline (resumable, shardable)",
  run: runRun,
};
export const dataStagesCommand: Command = {
  summary: "list the curation stages and sources with their options",
  run: runStages,
};
