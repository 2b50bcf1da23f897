/**
 * glmv as a library (`import { runMainJob, parseRlConfig, scoreItems } from "glmv"`): the reward system, the model
 * config and its presets, the RL config schema and the embedded main job with its local engine, the data-curation
 * pipeline runner (`loadPipeline`, `runPipeline`, `writeReport`, the stage contract), and the typed error.
 * The reward system alone, without the model code, is `glmv/reward` (with `cleanAnswer` / `stripBoxTokens`, which turn
 * a GLM-V response into the text to show a person).
 * @example
 * import { createLocalEngine, parseRlConfig, runMainJob } from "glmv";
 * const config = parseRlConfig({ rl: { steps: 20 } });
 * const summary = await runMainJob({ outDir: "runs/lib", config, engine: await createLocalEngine(config) });
 */

export {
  type CurateItem,
  type CurateMedia,
  drop,
  keep,
  keepSome,
  loadPipeline,
  type Pipeline,
  parsePipeline,
  planKubernetes,
  planSlurm,
  type RunOptions,
  type RunSummary,
  runPipeline,
  type SourceDef,
  type StageDef,
  type StageOutcome,
  writeReport,
} from "./curate/index.ts";
export {
  checkConfig,
  type GlmvConfig,
  GlmvConfigSchema,
  MoeConfig,
  PRESETS,
  PresetName,
  presetConfig,
} from "./model/config.ts";
export { parseHfConfig, toHfConfig } from "./model/config-hf.ts";
export { countActiveParameters, countParameters } from "./model/config-tensors.ts";
export * from "./reward/index.ts";
export { createLocalEngine } from "./rl/job/local-engine.ts";
export { type MainJobOptions, runMainJob } from "./rl/job/main-job.ts";
export type { MainJobEngine, SftRunOptions } from "./rl/job/main-job-engine.ts";
export { parseSummary, Summary } from "./rl/job/summary.ts";
export {
  DataConfig,
  OFFLINE_DIFFICULTIES,
  type OfflineDifficulty,
  parseRlConfig,
  RlConfig,
  type RlConfigInput,
  RlLoopConfig,
  SAMPLERS,
  type SamplerName,
  SftConfig,
} from "./rl/loop/config.ts";
export { GlmvError, type GlmvErrorCode, isGlmvError } from "./util/errors.ts";
