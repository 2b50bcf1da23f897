/**
 * The programmatic API of `glmv data`: load a pipeline file (or build one from a value), run it into a folder
 * (whole, or one task's share), plan it for a scheduler, and write its report.
 * @example
 * const pipeline = await loadPipeline("examples/data/pairs.yaml");
 * const summary = await runPipeline(pipeline, { out: "runs/pairs" });
 * await writeReport("runs/pairs");
 */
export { loadPipeline, type Pipeline, parsePipeline } from "./pipeline.ts";
export { planKubernetes, planSlurm } from "./plan.ts";
export { writeReport } from "./report/report.ts";
export { type Phase, planPhases } from "./run/phases.ts";
export { type RunOptions, runPipeline, type ShardEvent } from "./run/runner.ts";
export { formatSummaryTable, type RunSummary } from "./run/summary.ts";
export * from "./stage.ts";
