/**
 * Did a run of the example pipeline catch what the sample planted? Reads the run's dropped-item samples (every
 * stage's `sNNNNN.dropped.tar`) and sets each planted id against the reason it was dropped for. A copy and its
 * original count as caught when exactly one of the two survives.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { readItems } from "../formats/item-tar.ts";
import type { SampleTruth } from "./make-sample.ts";
import type { PlantedKind } from "./pairs-sample.ts";

/** The drop reasons that count as catching each planted kind. */
export const EXPECTED_REASONS: Record<PlantedKind, readonly string[]> = {
  exactDuplicate: ["exact_duplicate"],
  nearDuplicate: ["near_duplicate", "exact_duplicate"],
  solidColor: ["solid_color", "low_information"],
  qrAd: ["qr_code", "ad_banner"],
  tooSmall: ["too_small", "tiny_image"],
  shortCaption: ["caption_short"],
};

export type Drop = { stage: string; reason: string; detail?: string };

/** Every dropped id of a run folder with the stage and reason that dropped it. */
export async function droppedIds(runDir: string): Promise<Map<string, Drop>> {
  const drops = new Map<string, Drop>();
  const shardsDir = join(runDir, "shards");
  for (const level of (await readdir(shardsDir)).sort()) {
    const files = (await readdir(join(shardsDir, level))).filter((f) => f.endsWith(".dropped.tar")).sort();
    for (const file of files)
      for await (const { item, note } of readItems(join(shardsDir, level, file)))
        drops.set(item.id, {
          stage: level.replace(/^\d+-/, ""),
          reason: String(note.reason),
          ...(note.detail ? { detail: String(note.detail) } : {}),
        });
  }
  return drops;
}

export type KindCheck = { kind: PlantedKind; planted: number; caught: number; missed: string[] };

/**
 * One row per planted kind. A duplicate is caught when it or its original (never both) was dropped as a duplicate.
 * @example const rows = checkPlanted(truth, await droppedIds("runs/data-example/pairs"));
 */
export function checkPlanted(truth: SampleTruth, drops: ReadonlyMap<string, Drop>): KindCheck[] {
  return (Object.keys(truth.planted) as PlantedKind[]).map((kind) => {
    const expected = EXPECTED_REASONS[kind];
    const hit = (id: string) => expected.includes(drops.get(id)?.reason ?? "");
    const missed = truth.planted[kind].filter((id) => {
      const original = truth.duplicateOf[id];
      if (original === undefined) return !hit(id);
      return (
        hit(id) === hit(original) || (!hit(id) && drops.has(id)) || (!hit(original) && drops.has(original))
      );
    });
    return {
      kind,
      planted: truth.planted[kind].length,
      caught: truth.planted[kind].length - missed.length,
      missed,
    };
  });
}
