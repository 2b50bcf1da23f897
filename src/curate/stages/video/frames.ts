/**
 * `video-frames` (paper §3.1, video data): sample frames from an item's video with ffmpeg, at a fixed rate or as N
 * evenly spaced frames, in one decoding pass. Each frame becomes a media entry (`frame-0003.jpg`); its time in
 * seconds from the clip's start (the selected frame's own pts, read from ffmpeg's showinfo) goes to
 * `fields.frameTimes`, the clip length to `fields.duration`. A video ffprobe/ffmpeg cannot read is `video_unreadable`.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { z } from "zod";
import { type CurateItem, type CurateMedia, drop, keep, type StageDef } from "../../stage.ts";
import { probeVideo, runTool, showinfoTimes, type VideoProbe, withTempDir } from "./ffmpeg.ts";

/** Extensions taken as video when `video` names no media entry. */
export const VIDEO_EXTENSIONS = [
  ".mp4",
  ".webm",
  ".mkv",
  ".mov",
  ".avi",
  ".m4v",
  ".mpg",
  ".mpeg",
  ".ts",
  ".gif",
];

/** Frame media are named `frame-NNNN.jpg` (0-based, in time order); `video-dedup` finds them by this prefix. */
export const FRAME_PREFIX = "frame-";
export const frameName = (i: number): string => `${FRAME_PREFIX}${String(i).padStart(4, "0")}.jpg`;

export const VideoFramesOptions = z
  .strictObject({
    /** The media entry holding the video; default the first whose name ends in a video extension. */
    video: z.string().min(1).optional(),
    /** Frames per second of the clip (one frame, the first, from each 1/fps interval). */
    fps: z.number().positive().max(120).optional(),
    /** N frames evenly spaced over the clip (the frame at each of N segment centres). Default 8 when fps is unset. */
    frames: z.number().int().positive().max(1024).optional(),
    /** Cap on frames in fps mode, so a long clip cannot fill a shard. */
    maxFrames: z.number().int().positive().default(256),
    /** Frames are scaled down so their longer side is at most this (never up). */
    maxSide: z.number().int().min(16).default(448),
    /** JPEG quality as ffmpeg's -q:v (2 best … 31 worst). */
    quality: z.number().int().min(2).max(31).default(3),
    /** Keep the video itself in the item beside its frames. */
    keepVideo: z.boolean().default(true),
  })
  .refine((o) => o.fps === undefined || o.frames === undefined, {
    message: "set either fps or frames, not both",
  });
export type VideoFramesOptions = z.infer<typeof VideoFramesOptions>;

/** How frames are picked, resolved from the options. */
type Sampling = { kind: "fps"; fps: number; max: number } | { kind: "even"; count: number };

const DEFAULT_FRAME_COUNT = 8;

function samplingOf(o: VideoFramesOptions): Sampling {
  if (o.fps !== undefined) return { kind: "fps", fps: o.fps, max: o.maxFrames };
  return { kind: "even", count: o.frames ?? DEFAULT_FRAME_COUNT };
}

/** The video media entry of an item: the named one, or the first with a video extension. */
export function findVideo(item: CurateItem, name: string | undefined): CurateMedia | undefined {
  if (name !== undefined) return item.media.find((m) => m.name === name);
  return item.media.find((m) => VIDEO_EXTENSIONS.includes(extname(m.name).toLowerCase()));
}

/**
 * The select filter's expression. `t` is a frame's pts in seconds; `s` the video stream's start. fps mode takes the first
 * frame of each 1/fps bucket; even mode buckets the clip into N segments shifted by half a segment, so frame i is
 * the first at or after the centre of segment i. Bucketing (not "t − last ≥ step") keeps sampling from drifting.
 */
function selectExpr(sampling: Sampling, probe: VideoProbe): string {
  const s = probe.startTime;
  const pos = (t: string) =>
    sampling.kind === "fps"
      ? `(${t}-${s})*${sampling.fps}`
      : `(${t}-${s})*${sampling.count}/${probe.duration}-0.5`;
  const newBucket = `isnan(prev_selected_t)+gt(floor(${pos("t")}),floor(${pos("prev_selected_t")}))`;
  return sampling.kind === "fps" ? newBucket : `gte(${pos("t")},0)*(${newBucket})`;
}

/** Scale so the longer side is at most `maxSide`, never up; -2 keeps the other side even and the aspect ratio. */
const scaleFilter = (maxSide: number): string =>
  `scale='if(gte(iw,ih),min(iw,${maxSide}),-2)':'if(gte(iw,ih),-2,min(ih,${maxSide}))'`;

/** Decode `file` once and write the selected frames as JPEGs into `dir`; their times relative to the clip start. */
async function extractFrames(
  file: string,
  dir: string,
  probe: VideoProbe,
  o: VideoFramesOptions,
  signal: AbortSignal,
): Promise<{ frames: Uint8Array[]; times: number[] }> {
  const sampling = samplingOf(o);
  const limit = sampling.kind === "fps" ? sampling.max : sampling.count;
  const filters = [`select='${selectExpr(sampling, probe)}'`, "showinfo", scaleFilter(o.maxSide)].join(",");
  const { stderr } = await runTool(
    "ffmpeg",
    [
      // -copyts: the filters see the stream's own pts, which the probe's start time is subtracted from.
      ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-copyts", "-i", file],
      ["-map", "0:v:0", "-vf", filters, "-fps_mode", "vfr", "-frames:v", String(limit)],
      ["-q:v", String(o.quality), "-start_number", "0", "-f", "image2", join(dir, "frame-%04d.jpg")],
    ].flat(),
    signal,
  );
  const names = (await readdir(dir)).filter((n) => n.startsWith(FRAME_PREFIX)).sort();
  const times = showinfoTimes(stderr).map((t) => Math.round((t - probe.startTime) * 1000) / 1000);
  const n = Math.min(names.length, times.length);
  const frames = await Promise.all(names.slice(0, n).map((name) => readFile(join(dir, name))));
  return { frames: frames.map((b) => new Uint8Array(b)), times: times.slice(0, n) };
}

/** One line of a tool's stderr that says what went wrong (its last non-empty line). */
function toolMessage(e: unknown): string {
  const stderr = (e as { stderr?: unknown }).stderr;
  const lines = typeof stderr === "string" ? stderr.trim().split("\n") : [];
  return (lines.at(-1) ?? (e instanceof Error ? e.message : String(e))).slice(0, 300);
}

export const videoFrames: StageDef<VideoFramesOptions> = {
  name: "video-frames",
  summary: "sample frames from a video (fps or N evenly spaced) with their timestamps, via ffmpeg",
  options: VideoFramesOptions,
  async open(options) {
    return {
      async process(item, { signal }) {
        const video = findVideo(item, options.video);
        if (!video) return drop("no_video", options.video ?? `no media with a video extension in ${item.id}`);
        const extracted = await withTempDir(async (dir) => {
          const file = join(dir, `input${extname(video.name) || ".video"}`);
          await writeFile(file, video.bytes);
          try {
            const probe = await probeVideo(file, signal);
            if (!probe) return { error: "no video stream with a size and a duration" };
            const out = await extractFrames(file, dir, probe, options, signal);
            return out.frames.length > 0
              ? { ...out, duration: probe.duration }
              : { error: "no frame decoded" };
          } catch (e) {
            // The item's time limit is the runner's to report, not a property of the video.
            if (signal.aborted) throw signal.reason ?? e;
            return { error: toolMessage(e) };
          }
        });
        if ("error" in extracted) return drop("video_unreadable", `${video.name}: ${extracted.error}`);
        const frames = extracted.frames.map((bytes, i) => ({ name: frameName(i), bytes }));
        // Frames of an earlier sampling are replaced, not added to.
        const others = item.media.filter((m) => m !== video && !m.name.startsWith(FRAME_PREFIX));
        return keep({
          ...item,
          media: [...(options.keepVideo ? [video] : []), ...others, ...frames],
          fields: { ...item.fields, frameTimes: extracted.times, duration: extracted.duration },
        });
      },
    };
  },
};
