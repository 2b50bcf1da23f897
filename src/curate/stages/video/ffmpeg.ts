/**
 * ffprobe and ffmpeg as child processes for the video stages: each run gets the item's AbortSignal (a stalled decode
 * is killed when the item's time limit passes) and works in a temp folder that is always removed.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Output of one tool run. Non-zero exits reject with the error `execFile` gives (its `stderr` attached). */
type ToolOutput = { stdout: string; stderr: string };

// showinfo logs a line per selected frame; a long clip at a high fps stays far below this.
const MAX_TOOL_OUTPUT = 64 * 1024 * 1024;

/** Run `ffmpeg`/`ffprobe` with `args`; killed (rejecting with an AbortError) when `signal` aborts. */
export function runTool(
  tool: "ffmpeg" | "ffprobe",
  args: string[],
  signal: AbortSignal,
): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    execFile(
      tool,
      args,
      { signal, maxBuffer: MAX_TOOL_OUTPUT, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** Run `body` with a fresh temp folder, removed afterwards whatever happens. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "glmv-video-"));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What ffprobe tells about a video file: its first video stream's size, the clip's start and length in seconds. */
export type VideoProbe = { width: number; height: number; startTime: number; duration: number };

type ProbeJson = {
  streams?: {
    codec_type?: string;
    width?: number;
    height?: number;
    duration?: string;
    start_time?: string;
  }[];
  format?: { duration?: string; start_time?: string };
};

/** ffprobe's `-show_entries` output for the first video stream of `file`, in the writer `-of` names. */
async function probeFirstVideoStream(
  file: string,
  entries: string,
  writer: string,
  signal: AbortSignal,
): Promise<string> {
  const args = ["-v", "error", "-select_streams", "v:0", "-show_entries", entries, "-of", writer, file];
  return (await runTool("ffprobe", args, signal)).stdout;
}

const finite = (s: string | undefined): number | undefined => {
  const n = s === undefined ? Number.NaN : Number(s);
  return Number.isFinite(n) ? n : undefined;
};

/**
 * Probe a video file. Null when it has no readable video stream. A container without a duration (a recorder's WebM)
 * is measured by its last video packet's end.
 */
export async function probeVideo(file: string, signal: AbortSignal): Promise<VideoProbe | null> {
  const stdout = await probeFirstVideoStream(
    file,
    "stream=codec_type,width,height,duration,start_time:format=duration,start_time",
    "json",
    signal,
  );
  const json = JSON.parse(stdout) as ProbeJson;
  const stream = json.streams?.find((s) => s.codec_type === "video");
  if (!stream?.width || !stream.height) return null;
  const startTime = finite(stream.start_time) ?? finite(json.format?.start_time) ?? 0;
  const duration =
    finite(stream.duration) ??
    finite(json.format?.duration) ??
    (await lastPacketEnd(file, signal)) - startTime;
  if (!(duration > 0)) return null;
  return { width: stream.width, height: stream.height, startTime, duration };
}

/** The end time of the last video packet (pts + duration), for containers that do not state a duration. */
async function lastPacketEnd(file: string, signal: AbortSignal): Promise<number> {
  const stdout = await probeFirstVideoStream(file, "packet=pts_time,duration_time", "csv=p=0", signal);
  let end = Number.NaN;
  for (const line of stdout.split("\n")) {
    const [pts, dur] = line.split(",").map((s) => Number(s));
    if (pts !== undefined && Number.isFinite(pts))
      end = Math.max(Number.isNaN(end) ? pts : end, pts + (dur || 0));
  }
  return end;
}

/** The `pts_time` of each frame the `showinfo` filter logged, in output order. */
export function showinfoTimes(stderr: string): number[] {
  const times: number[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.includes("Parsed_showinfo")) continue;
    const m = /pts_time:\s*(-?[0-9.]+(?:e[-+]?\d+)?)/.exec(line);
    if (m) times.push(Number(m[1]));
  }
  return times;
}
