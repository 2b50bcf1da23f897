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
  const merge = cfg.vision.spatialMergeSize;
  const images = opts.imageGridThw ?? [];
  const videos = opts.videoGridThw ?? [];
  const positions: number[][][] = [];
  const ropeDeltas: number[] = [];
  let imageIndex = 0;
  let videoIndex = 0;
  let videoGroupIndex = 0;

  inputIds.forEach((row, b) => {
    const mask = opts.attentionMask?.[b] ?? row.map(() => 1);
    const keep: number[] = [];
    mask.forEach((m, i) => {
      if (m === 1) keep.push(i);
    });
    const out = [0, 1, 2].map(() => new Array<number>(row.length).fill(1));
    if (images.length === 0 && videos.length === 0) {
      // cumsum(mask) − 1 on kept slots, 1 on masked ones
      keep.forEach((i, n) => {
        for (const c of out) c[i] = n;
      });
      const max = Math.max(...out[0]!);
      positions.push(out);
      ropeDeltas.push(max + 1 - row.length);
      return;
    }
    const ids = keep.map((i) => row[i]!);
    const comps: [number[], number[], number[]] = [[], [], []];
    let st = 0;
    let videoFrameNum = 1;
    const pushGrid = (t: number, h: number, w: number, stIdx: number) => {
      for (let ti = 0; ti < t; ti++)
        for (let r = 0; r < h; r++)
          for (let c = 0; c < w; c++) {
            comps[0].push(stIdx + ti);
            comps[1].push(stIdx + r);
            comps[2].push(stIdx + c);
          }
    };
    for (const run of tokenRuns(ids, cfg.tokens)) {
      const runStart = comps[0].length;
      if (run.kind === "text") {
        for (let i = 0; i < run.end - run.start; i++) for (const c of comps) c.push(st + i);
        videoFrameNum = 1;
      } else if (run.kind === "image") {
        const g = images[imageIndex];
        if (!g) throw new GlmvError("bad_input", "more image runs than image grids", { where: `row ${b}` });
        pushGrid(g[0], g[1] / merge, g[2] / merge, st);
        imageIndex++;
        videoFrameNum = 1;
      } else {
        const g = videos[videoIndex];
        if (!g) throw new GlmvError("bad_input", "more video runs than video grids", { where: `row ${b}` });
        // each video run is one temporal patch; the frame counter is reset by any text/image run
        for (let ti = 0; ti < videoFrameNum; ti++) pushGrid(1, g[1] / merge, g[2] / merge, st + ti);
        videoGroupIndex++;
        if (videoGroupIndex >= g[0]) {
          videoIndex++;
          videoGroupIndex = 0;
        }
        videoFrameNum++;
      }
      // the next run starts after the max of the LAST block only (as the reference does)
      st = Math.max(...comps.map((c) => maxOf(c.slice(runStart)))) + 1;
    }
    if (comps[0].length !== keep.length)
      throw new GlmvError("bad_input", `position count ${comps[0].length} ≠ token count ${keep.length}`, {
        where: `row ${b}`,
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
