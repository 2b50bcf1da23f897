/**
 * `glmv data plan` (the Slurm / Kubernetes scripts that run a pipeline as N tasks, one job per phase) and
 * `glmv data report` (OUT/report.html: counts and thumbnails of kept and dropped items per stage).
 */
import { chmod, mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadPipeline } from "../curate/pipeline.ts";
import { planKubernetes, planSlurm } from "../curate/plan.ts";
import { writeReport } from "../curate/report/report.ts";
import { planPhases } from "../curate/run/phases.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { choiceArg, numberArg } from "./args.ts";
import type { Command } from "./command.ts";
import { positionalFile } from "./data.ts";
import { EXIT_OK, EXIT_USAGE } from "./failure.ts";

const PLAN_USAGE = `usage: glmv data plan PIPELINE.yaml --out DIR --tasks N --scheduler slurm|kubernetes [options]

Writes the scripts that run the pipeline as N parallel tasks under a scheduler you already have: one array job
(Slurm, #SBATCH --array=0-(N-1)) or Indexed Job (Kubernetes, completionMode: Indexed) per phase, and a submit
script that starts each phase after the previous one succeeded (Slurm --dependency=afterok, kubectl wait). A
pipeline splits into phases at stages that read every shard of their input. DIR must be on storage every task
reaches; each task runs \`glmv data run PIPELINE.yaml --out DIR --phase P --of N\` and takes its index from
$SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX.

options:
  --out DIR          the run folder the tasks share
  --tasks N          how many tasks per phase
  --scheduler S      slurm or kubernetes
  --scripts DIR      where to write the scripts (default DIR/plan)
  --image IMAGE      kubernetes: the container image with glmv (default glmv:latest)
  --pvc NAME         kubernetes: a PersistentVolumeClaim mounted at DIR
  -h, --help         show this help`;

const REPORT_USAGE = `usage: glmv data report DIR

Writes DIR/report.html for the run in DIR (self-contained: thumbnails inline): each stage's in/kept/dropped
counts by reason and grids of kept and dropped items with the reason and detail.

options:
  -h, --help   show this help`;

function usageError(command: string, message: string, usage: string): number {
  console.error(`glmv data ${command}: ${message}\n\n${usage}`);
  return EXIT_USAGE;
}

async function runPlan(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof positionalFile>;
  try {
    parsed = positionalFile(argv, {
      out: { type: "string" },
      tasks: { type: "string" },
      scheduler: { type: "string" },
      scripts: { type: "string" },
      image: { type: "string" },
      pvc: { type: "string" },
    });
  } catch (e) {
    return usageError("plan", (e as Error).message, PLAN_USAGE);
  }
  const { values, files } = parsed;
  if (values.help) {
    console.log(PLAN_USAGE);
    return EXIT_OK;
  }
  if (files.length !== 1)
    return usageError("plan", `expected one pipeline file, got ${files.length}`, PLAN_USAGE);
  if (typeof values.out !== "string") return usageError("plan", "--out DIR is required", PLAN_USAGE);
  const tasks = numberArg(values, "tasks", { integer: true, min: 1 });
  const scheduler = choiceArg(values, "scheduler", ["slurm", "kubernetes"] as const);
  if (tasks === undefined) return usageError("plan", "--tasks N is required", PLAN_USAGE);
  if (scheduler === undefined)
    return usageError("plan", "--scheduler slurm|kubernetes is required", PLAN_USAGE);
  const pipelineFile = resolve(files[0]!);
  const pipeline = await loadPipeline(pipelineFile);
  const out = resolve(values.out);
  const options = {
    name: pipeline.name,
    pipelineFile,
    out,
    tasks,
    phases: await planPhases(pipeline),
    cpus: pipeline.workers,
    ...(typeof values.image === "string" ? { image: values.image } : {}),
    ...(typeof values.pvc === "string" ? { pvc: values.pvc } : {}),
  };
  const planned = scheduler === "slurm" ? planSlurm(options) : planKubernetes(options);
  const dir = resolve(typeof values.scripts === "string" ? values.scripts : join(out, "plan"));
  await mkdir(dir, { recursive: true });
  for (const f of planned) {
    await writeFileAtomic(join(dir, f.name), f.text);
    if (f.executable) await chmod(join(dir, f.name), 0o755);
    console.log(join(dir, f.name));
  }
  return EXIT_OK;
}

async function runReport(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof positionalFile>;
  try {
    parsed = positionalFile(argv, {});
  } catch (e) {
    return usageError("report", (e as Error).message, REPORT_USAGE);
  }
  if (parsed.values.help) {
    console.log(REPORT_USAGE);
    return EXIT_OK;
  }
  if (parsed.files.length !== 1)
    return usageError("report", `expected one run folder, got ${parsed.files.length}`, REPORT_USAGE);
  console.log(await writeReport(resolve(parsed.files[0]!)));
  return EXIT_OK;
}

export const dataPlanCommand: Command = {
  summary: "write Slurm / Kubernetes scripts that run a pipeline as N tasks",
  run: runPlan,
};
export const dataReportCommand: Command = {
  summary: "write DIR/report.html: counts and thumbnails per stage",
  run: runReport,
};
