/**
 * 3-D position ids for the text decoder, as transformers' `Glm4vModel.get_rope_index` (model-spec §3.3), and the
 * decode-time rule `pos = cachePosition + ropeDelta`.
 */
import { GlmvError } from "../util/errors.ts";
import type { GlmvConfig } from "./config.ts";

/** A (t, h, w) grid in patch units. */
export type GridThw = readonly [number, number, number];

/** Result for a batch: positions[b] is [3][S] (t, h, w components); ropeDeltas[b] one number per row. */
export type RopeIndex = { positions: number[][][]; ropeDeltas: number[] };

type Run = { kind: "text" | "image" | "video"; start: number; end: number };

/** Label tokens and group consecutive runs of the same label. */
function tokenRuns(ids: readonly number[], tokens: GlmvConfig["tokens"]): Run[] {
  const runs: Run[] = [];
  let inVideo = false;
  ids.forEach((id, i) => {
    if (id === tokens.videoStartTokenId) inVideo = true;
    else if (id === tokens.videoEndTokenId) inVideo = false;
    const kind = id === tokens.imageTokenId ? (inVideo ? "video" : "image") : "text";
    const last = runs[runs.length - 1];
    if (last && last.kind === kind) last.end = i + 1;
    else runs.push({ kind, start: i, end: i + 1 });
  });
  return runs;
}

/** The t, h, w components of the kept tokens of one row, built run by run. */
type Components = [number[], number[], number[]];

/**
 * Where the batch stands in its image and video grids: grids are consumed in order across the whole batch, and a
 * video grid of t temporal patches is consumed over t video runs.
 */
type GridCursor = {
  readonly images: readonly GridThw[];
  readonly videos: readonly GridThw[];
  readonly merge: number;
  imageIndex: number;
  videoIndex: number;
  videoGroupIndex: number;
};

/** Append a (t, h, w) grid of positions starting at `start` (h and w in merged patches). */
function pushGrid(comps: Components, t: number, h: number, w: number, start: number): void {
  for (let ti = 0; ti < t; ti++)
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        comps[0].push(start + ti);
        comps[1].push(start + r);
        comps[2].push(start + c);
      }
}

/** An image run: the next image grid's positions. */
function pushImageRun(comps: Components, cursor: GridCursor, start: number, where: string): void {
  const g = cursor.images[cursor.imageIndex];
  if (!g) throw new GlmvError("bad_input", "more image runs than image grids", { where });
  pushGrid(comps, g[0], g[1] / cursor.merge, g[2] / cursor.merge, start);
  cursor.imageIndex++;
}

/** A video run (one temporal patch of the current video grid), repeated for each frame since the last reset. */
function pushVideoRun(
  comps: Components,
  cursor: GridCursor,
  frameNum: number,
  start: number,
  where: string,
): void {
  const g = cursor.videos[cursor.videoIndex];
  if (!g) throw new GlmvError("bad_input", "more video runs than video grids", { where });
  for (let ti = 0; ti < frameNum; ti++)
    pushGrid(comps, 1, g[1] / cursor.merge, g[2] / cursor.merge, start + ti);
  cursor.videoGroupIndex++;
  if (cursor.videoGroupIndex >= g[0]) {
    cursor.videoIndex++;
    cursor.videoGroupIndex = 0;
  }
}

/** Positions of one row's kept tokens with images or videos in the batch, run by run as the reference does. */
function multimodalComponents(
  ids: readonly number[],
  tokens: GlmvConfig["tokens"],
  cursor: GridCursor,
  where: string,
): Components {
  const comps: Components = [[], [], []];
  let st = 0;
  let videoFrameNum = 1;
  for (const run of tokenRuns(ids, tokens)) {
    const runStart = comps[0].length;
    if (run.kind === "text") {
      for (let i = 0; i < run.end - run.start; i++) for (const c of comps) c.push(st + i);
      videoFrameNum = 1;
    } else if (run.kind === "image") {
      pushImageRun(comps, cursor, st, where);
      videoFrameNum = 1;
    } else {
      // each video run is one temporal patch; the frame counter is reset by any text/image run
      pushVideoRun(comps, cursor, videoFrameNum, st, where);
      videoFrameNum++;
    }
    // the next run starts after the max of the LAST block only (as the reference does)
    st = Math.max(...comps.map((c) => maxOf(c.slice(runStart)))) + 1;
  }
  return comps;
}

/**
 * Compute position ids for a batch of token rows.
 * Image and video grids are consumed in order across the whole batch (as the reference does).
 * @param inputIds   rows of token ids [B][S]
 * @param attentionMask rows of 0/1 (defaults to all ones); masked slots get position 1
 * @example getRopeIndex([[5, 6, 7]], cfg).positions[0] // [[0,1,2],[0,1,2],[0,1,2]]
 */
export function getRopeIndex(
  inputIds: readonly (readonly number[])[],
  cfg: Pick<GlmvConfig, "tokens" | "vision">,
  opts: {
    imageGridThw?: readonly GridThw[];
    videoGridThw?: readonly GridThw[];
    attentionMask?: readonly (readonly number[])[];
  } = {},
): RopeIndex {
  const cursor: GridCursor = {
    images: opts.imageGridThw ?? [],
    videos: opts.videoGridThw ?? [],
    merge: cfg.vision.spatialMergeSize,
    imageIndex: 0,
    videoIndex: 0,
    videoGroupIndex: 0,
  };
  const positions: number[][][] = [];
  const ropeDeltas: number[] = [];
  inputIds.forEach((row, b) => {
    const mask = opts.attentionMask?.[b] ?? row.map(() => 1);
    const keep: number[] = [];
    mask.forEach((m, i) => {
      if (m === 1) keep.push(i);
    });
    const out = [0, 1, 2].map(() => new Array<number>(row.length).fill(1));
    if (cursor.images.length === 0 && cursor.videos.length === 0) {
      // cumsum(mask) − 1 on kept slots, 1 on masked ones
      keep.forEach((i, n) => {
        for (const c of out) c[i] = n;
      });
      const max = Math.max(...out[0]!);
      positions.push(out);
      ropeDeltas.push(max + 1 - row.length);
      return;
    }
    const where = `row ${b}`;
    const comps = multimodalComponents(
      keep.map((i) => row[i]!),
      cfg.tokens,
      cursor,
      where,
    );
    if (comps[0].length !== keep.length)
      throw new GlmvError("bad_input", `position count ${comps[0].length} ≠ token count ${keep.length}`, {
        where,
      });
    keep.forEach((i, n) => {
      out.forEach((c, ci) => {
        c[i] = comps[ci]![n]!;
      });
    });
    positions.push(out);
    ropeDeltas.push(Math.max(...comps.map((c) => maxOf(c))) + 1 - row.length);
  });
  return { positions, ropeDeltas };
}

function maxOf(xs: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/**
 * Position ids for decode steps after a prefill: every component is `cachePosition + ropeDelta`.
 * @example decodePositions(40, -12) // [28, 28, 28]
 */
export function decodePositions(cachePosition: number, ropeDelta: number): [number, number, number] {
  const p = cachePosition + ropeDelta;
  return [p, p, p];
}
