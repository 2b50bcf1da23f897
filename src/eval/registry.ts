/**
 * The task registry: each name loads its module lazily, so listing or scoring one benchmark never loads the others.
 * A task module exports `task` (an `EvalTask`).
 */
import { GlmvError } from "../util/errors.ts";
import type { EvalTask } from "./types.ts";

type Loader = () => Promise<EvalTask>;

const TASKS: Record<string, Loader> = {
  mathvista: async () => (await import("./tasks/mathvista.ts")).task,
  mmmu: async () => (await import("./tasks/mmmu.ts")).task,
  "mmmu-pro": async () => (await import("./tasks/mmmu-pro.ts")).task,
  ocrbench: async () => (await import("./tasks/ocrbench.ts")).task,
  chartqa: async () => (await import("./tasks/chartqa.ts")).task,
  ai2d: async () => (await import("./tasks/ai2d.ts")).task,
  docvqa: async () => (await import("./tasks/docvqa.ts")).docvqa,
  infovqa: async () => (await import("./tasks/docvqa.ts")).infovqa,
  textvqa: async () => (await import("./tasks/textvqa.ts")).task,
  refcoco: async () => (await import("./tasks/refcoco.ts")).task,
  screenspot: async () => (await import("./tasks/screenspot.ts")).task,
  videomme: async () => (await import("./tasks/videomme.ts")).task,
  synthetic: async () => (await import("./tasks/synthetic.ts")).task,
};

/** Every registered task name, in listing order. */
export const TASK_NAMES = Object.keys(TASKS);

/** The task of that name; an unknown name is a `bad_argument` naming the known ones. */
export async function loadTask(name: string): Promise<EvalTask> {
  const loader = TASKS[name];
  if (!loader) {
    throw new GlmvError("bad_argument", `unknown task '${name}' (known: ${TASK_NAMES.join(", ")})`, {
      where: "--tasks",
    });
  }
  return loader();
}
