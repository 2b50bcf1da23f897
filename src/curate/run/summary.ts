/** Per-stage counts over every finished shard (read from the markers), as `OUT/summary.json` and a printed table. */
import { join } from "node:path";
import { writeFileAtomic } from "../../util/fs.ts";
import type { Pipeline } from "../pipeline.ts";
import type { ShardStore } from "./store.ts";

export type StageCounts = {
  level: number;
  name: string;
  /** Shards finished under the current config (of `shards`). */
  shardsDone: number;
  in: number;
  kept: number;
  dropped: Record<string, number>;
  seconds: number;
};

export type RunSummary = {
  name: string;
  shards: number;
  stages: StageCounts[];
  output: { format: string; shardsDone: number; items: number; files: string[] };
};

/** The level's config hash: what its markers must carry to count as current. */
export const levelHash = (pipeline: Pipeline, level: number): string =>
  level === 0 ? pipeline.inputHash : pipeline.stages[level - 1]!.chainHash;

/**
 * Add up every current marker of every level.
 * @example (await collectSummary(store, pipeline, 8)).stages[1].dropped // { too_small: 12 }
 */
export async function collectSummary(
  store: ShardStore,
  pipeline: Pipeline,
  shardCount: number,
): Promise<RunSummary> {
  const stages: StageCounts[] = [];
  for (let level = 0; level <= pipeline.stages.length; level++) {
    const counts: StageCounts = {
      level,
      name: level === 0 ? "input" : pipeline.stages[level - 1]!.use,
      shardsDone: 0,
      in: 0,
      kept: 0,
      dropped: {},
      seconds: 0,
    };
    for (let s = 0; s < shardCount; s++) {
      const m = await store.marker(level, s);
      if (m?.configHash !== levelHash(pipeline, level)) continue;
      counts.shardsDone++;
      counts.in += m.in;
      counts.kept += m.kept;
      counts.seconds += m.seconds;
      for (const [reason, n] of Object.entries(m.dropped))
        counts.dropped[reason] = (counts.dropped[reason] ?? 0) + n;
    }
    counts.seconds = Math.round(counts.seconds * 1000) / 1000;
    stages.push(counts);
  }
  const output = { format: pipeline.output.format, shardsDone: 0, items: 0, files: [] as string[] };
  for (let s = 0; s < shardCount; s++) {
    const m = await store.marker("output", s);
    if (!m || m.configHash !== outputHash(pipeline)) continue;
    output.shardsDone++;
    output.items += m.kept;
    output.files.push(...(m.files ?? []));
  }
  return { name: pipeline.name, shards: shardCount, stages, output };
}

/** The final output's config hash: the last stage's chain and the output options. */
export const outputHash = (pipeline: Pipeline): string =>
  `${levelHash(pipeline, pipeline.stages.length)}:${pipeline.output.format}:${pipeline.output.shardSize ?? ""}`;

export const writeSummary = (out: string, summary: RunSummary): Promise<void> =>
  writeFileAtomic(join(out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);

/**
 * The summary as a text table: one row per stage with in, kept and dropped counts by reason.
 * @example console.log(formatSummaryTable(summary))
 */
export function formatSummaryTable(summary: RunSummary): string {
  const rows = summary.stages.map((s) => [
    String(s.level),
    s.name,
    `${s.shardsDone}/${summary.shards}`,
    String(s.in),
    String(s.kept),
    Object.entries(s.dropped)
      .sort(([, a], [, b]) => b - a)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(", ") || "-",
  ]);
  const header = ["#", "stage", "shards", "in", "kept", "dropped by reason"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  const out = summary.output;
  return [
    line(header),
    ...rows.map(line),
    `output: ${out.items} items in ${out.files.length} ${out.format} file(s), ${out.shardsDone}/${summary.shards} shards`,
  ].join("\n");
}
