/**
 * AdamW state beside a checkpoint's weights: the moments under `mu.` / `nu.` + the Hugging Face key, and the step
 * count, as one safetensors file (`optimizer.safetensors`), so a resumed run continues the same optimiser.
 */
import { readFile } from "node:fs/promises";
import { numpy as np } from "@jax-js/jax";
import { GlmvError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/fs.ts";
import type { GlmvConfig } from "./config.ts";
import type { ModelOptState } from "./model.ts";
import { paramsFromNamed, paramsToNamed } from "./params.ts";
import { readSafetensors, type WritableTensor, writeSafetensors } from "./safetensors.ts";

/** Write AdamW moments (under `mu.` / `nu.` + the HF key) and the step count as one safetensors file. */
export async function saveOptimizerState(path: string, opt: ModelOptState): Promise<void> {
  const tensors = new Map<string, WritableTensor>();
  for (const [prefix, moments] of [
    ["mu.", opt.mu],
    ["nu.", opt.nu],
  ] as const)
    for (const [key, t] of paramsToNamed(moments)) tensors.set(prefix + key, t);
  const step = opt.step.ref.dataSync() as Float32Array;
  tensors.set("step", { shape: [], data: Float32Array.from(step) });
  await writeFileAtomic(path, writeSafetensors(tensors));
}

/** Read what `saveOptimizerState` wrote; undefined when the file does not exist (weights-only checkpoint). */
export async function loadOptimizerState(path: string, cfg: GlmvConfig): Promise<ModelOptState | undefined> {
  const bytes = await readFile(path).catch(() => undefined);
  if (!bytes) return undefined;
  const all = readSafetensors(bytes, { where: path });
  const part = (prefix: string) => {
    const m = new Map<string, { shape: number[]; data: ArrayLike<number> }>();
    for (const [k, t] of all) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), t);
    return paramsFromNamed(m, cfg);
  };
  const step = all.get("step");
  if (!step) throw new GlmvError("checkpoint_corrupt", "optimizer state lacks its step", { where: path });
  return { step: np.array(step.data[0] ?? 0), mu: part("mu."), nu: part("nu.") };
}
