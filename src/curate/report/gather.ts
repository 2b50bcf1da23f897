/** What the report shows, read from a run folder: the summary's counts and samples of kept and dropped items. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { GlmvError } from "../../util/errors.ts";
import { readItems } from "../formats/item-tar.ts";
import { isImageMedia } from "../formats/media.ts";
import { shardStore } from "../run/store.ts";
import type { RunSummary, StageCounts } from "../run/summary.ts";
import type { CurateItem } from "../stage.ts";

/** An item as the report draws it: a thumbnail (data URI) or the media names, the id and a line of text. */
export type Shown = {
  id: string;
  thumbs: string[];
  others: string[];
  text: string;
  reason?: string;
  detail?: string;
};
export type StageView = { counts: StageCounts; kept: Shown[]; dropped: Record<string, Shown[]> };

export const KEPT_SHOWN = 24;
export const DROPPED_SHOWN_PER_REASON = 16;

async function thumbnail(bytes: Uint8Array): Promise<string | undefined> {
  try {
    const jpeg = await sharp(bytes, { failOn: "none" })
      .rotate()
      .resize(128, 128, { fit: "inside" })
      .jpeg({ quality: 70 })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString("base64")}`;
  } catch {
    return undefined; // undecodable: shown by name
  }
}

const textOf = (fields: Record<string, unknown>): string => {
  const t = fields.caption ?? fields.text ?? fields.question;
  return (typeof t === "string" ? t : JSON.stringify(fields)).slice(0, 160);
};

async function show(item: CurateItem, note: Record<string, unknown> = {}): Promise<Shown> {
  const thumbs: string[] = [];
  const others: string[] = [];
  for (const m of item.media.slice(0, 4)) {
    const uri = isImageMedia(m.bytes, m.name) ? await thumbnail(m.bytes) : undefined;
    if (uri) thumbs.push(uri);
    else others.push(m.name);
  }
  const shown: Shown = { id: item.id, thumbs, others, text: textOf(item.fields) };
  if (typeof note.reason === "string") shown.reason = note.reason;
  if (typeof note.detail === "string") shown.detail = note.detail;
  return shown;
}

/** Up to `limit` items of a level's shards, in shard order (missing shards skipped). */
async function sampleKept(path: (s: number) => string, shards: number, limit: number): Promise<Shown[]> {
  const out: Shown[] = [];
  for (let s = 0; s < shards && out.length < limit; s++) {
    try {
      for await (const { item } of readItems(path(s))) {
        out.push(await show(item));
        if (out.length >= limit) break;
      }
    } catch {
      // shard not made (yet): nothing to show from it
    }
  }
  return out;
}

async function sampleDropped(path: (s: number) => string, shards: number): Promise<Record<string, Shown[]>> {
  const out: Record<string, Shown[]> = {};
  for (let s = 0; s < shards; s++) {
    try {
      for await (const { item, note } of readItems(path(s))) {
        const reason = String(note.reason);
        out[reason] ??= [];
        const list = out[reason];
        if (list.length < DROPPED_SHOWN_PER_REASON) list.push(await show(item, note));
      }
    } catch {
      // no dropped sample for this shard
    }
  }
  return out;
}

/**
 * The summary and the samples of every stage of the run in `out`.
 * @example const { summary, stages } = await gatherReport("runs/pairs");
 */
export async function gatherReport(out: string): Promise<{ summary: RunSummary; stages: StageView[] }> {
  const text = await readFile(join(out, "summary.json"), "utf8").catch((cause: unknown) => {
    throw new GlmvError("not_found", `no summary.json in ${out}: run \`glmv data run\` into it first`, {
      where: out,
      cause,
    });
  });
  const summary = JSON.parse(text) as RunSummary;
  const store = shardStore(
    out,
    summary.stages.slice(1).map((s) => s.name),
  );
  const stages: StageView[] = [];
  for (const counts of summary.stages) {
    const kept = await sampleKept((s) => store.shardPath(counts.level, s), summary.shards, KEPT_SHOWN);
    const dropped =
      counts.level === 0
        ? {}
        : await sampleDropped((s) => store.droppedPath(counts.level, s), summary.shards);
    stages.push({ counts, kept, dropped });
  }
  return { summary, stages };
}
