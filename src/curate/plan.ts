/**
 * `glmv data plan`: the scheduler scripts that run a pipeline as N tasks, one array job (Slurm) or Indexed Job
 * (Kubernetes) per phase, each phase starting after the previous one succeeded on every task. The tasks find
 * their index in `SLURM_ARRAY_TASK_ID` / `JOB_COMPLETION_INDEX`; OUT must be on storage every task can reach.
 */
import { stringify } from "yaml";
import type { Phase } from "./run/phases.ts";

export type PlanOptions = {
  name: string;
  /** The pipeline file and the run folder as the tasks will see them (absolute paths are safest). */
  pipelineFile: string;
  out: string;
  tasks: number;
  phases: Phase[];
  /** CPUs per task (the pipeline's `workers`). */
  cpus: number;
  /** Kubernetes only: the container image with glmv, and a PersistentVolumeClaim mounted at `out`. */
  image?: string;
  pvc?: string;
};

export type PlanFile = { name: string; text: string; executable?: boolean };

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const jobName = (name: string, phase: number) =>
  `glmv-data-${
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "run"
  }-p${phase}`;

/**
 * One sbatch array script per phase and `submit-slurm.sh`, which submits them chained by `afterok` dependencies.
 * @example planSlurm({ name: "pairs", pipelineFile: "/data/p.yaml", out: "/data/run", tasks: 64, phases, cpus: 8 })
 */
export function planSlurm(o: PlanOptions): PlanFile[] {
  const scripts = o.phases.map(
    (phase): PlanFile => ({
      name: `slurm-phase-${phase.index}.sbatch`,
      text: [
        "#!/bin/bash",
        `#SBATCH --job-name=${jobName(o.name, phase.index)}`,
        `#SBATCH --array=0-${o.tasks - 1}`,
        `#SBATCH --cpus-per-task=${o.cpus}`,
        `#SBATCH --output=${o.out}/logs/%x-%A_%a.log`,
        `# phase ${phase.index} of ${o.phases.length}: levels ${phase.from}-${phase.to}${phase.barrier ? ` (from stage ${phase.barrier}, which reads every shard)` : ""}`,
        "# each task runs the shards s with s mod N == SLURM_ARRAY_TASK_ID; a rerun skips finished shards",
        "set -euo pipefail",
        `exec glmv data run ${quote(o.pipelineFile)} --out ${quote(o.out)} --phase ${phase.index} --of ${o.tasks}`,
        "",
      ].join("\n"),
    }),
  );
  const submit = [
    "#!/bin/bash",
    "# Submit every phase; each waits for the previous one to succeed on every array task.",
    "set -euo pipefail",
    'cd "$(dirname "$0")"',
    `mkdir -p ${quote(`${o.out}/logs`)}`,
    ...o.phases.map((p) =>
      p.index === 0
        ? `job=$(sbatch --parsable slurm-phase-0.sbatch)`
        : `job=$(sbatch --parsable --dependency=afterok:"$job" slurm-phase-${p.index}.sbatch)`,
    ),
    'echo "submitted; last job $job"',
    "",
  ].join("\n");
  return [...scripts, { name: "submit-slurm.sh", text: submit, executable: true }];
}

function indexedJob(o: PlanOptions, phase: Phase): Record<string, unknown> {
  const mount = o.pvc ? { volumeMounts: [{ name: "data", mountPath: o.out }] } : {};
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: jobName(o.name, phase.index),
      labels: { app: "glmv-data", phase: String(phase.index) },
    },
    spec: {
      completionMode: "Indexed",
      completions: o.tasks,
      parallelism: o.tasks,
      backoffLimitPerIndex: 2,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "glmv",
              image: o.image ?? "glmv:latest",
              command: [
                "glmv",
                "data",
                "run",
                o.pipelineFile,
                "--out",
                o.out,
                "--phase",
                String(phase.index),
                "--of",
                String(o.tasks),
              ],
              resources: { requests: { cpu: String(o.cpus) } },
              ...mount,
            },
          ],
          ...(o.pvc ? { volumes: [{ name: "data", persistentVolumeClaim: { claimName: o.pvc } }] } : {}),
        },
      },
    },
  };
}

/**
 * One Indexed Job manifest per phase and `submit-k8s.sh`, which applies each after the previous one completed.
 * @example planKubernetes({ ..., image: "registry/glmv:1.0", pvc: "curation" })
 */
export function planKubernetes(o: PlanOptions): PlanFile[] {
  const jobs = o.phases.map(
    (phase): PlanFile => ({
      name: `k8s-phase-${phase.index}.yaml`,
      text: `# phase ${phase.index}: each index runs the shards s with s mod ${o.tasks} == JOB_COMPLETION_INDEX\n${stringify(indexedJob(o, phase))}`,
    }),
  );
  const submit = [
    "#!/bin/bash",
    "# Apply every phase; each starts when the previous Indexed Job has completed on every index.",
    "set -euo pipefail",
    'cd "$(dirname "$0")"',
    ...o.phases.flatMap((p) => [
      `kubectl apply -f k8s-phase-${p.index}.yaml`,
      `kubectl wait --for=condition=complete --timeout=-1s job/${jobName(o.name, p.index)}`,
    ]),
    "",
  ].join("\n");
  return [...jobs, { name: "submit-k8s.sh", text: submit, executable: true }];
}
