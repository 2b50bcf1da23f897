/**
 * Test helper for the video stages: tiny real clips made with ffmpeg's lavfi sources.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Encode a clip from a lavfi source (`testsrc=duration=3:size=64x48:rate=10`, `color=c=red:…`) into a file of
 * extension `ext`, and return its bytes.
 */
export async function makeClip(source: string, ext = "mp4", extra: string[] = []): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), "glmv-clip-"));
  try {
    const out = join(dir, `clip.${ext}`);
    await run("ffmpeg", [
      "-v",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      source,
      ...extra,
      "-pix_fmt",
      "yuv420p",
      out,
    ]);
    return new Uint8Array(await readFile(out));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Re-encode a clip's bytes with extra ffmpeg output options (`-vf scale=…`, `-crf 40`): the same footage, other bytes. */
export async function transcode(bytes: Uint8Array, extra: string[], ext = "mp4"): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), "glmv-clip-"));
  try {
    const [input, out] = [join(dir, "in.video"), join(dir, `out.${ext}`)];
    await writeFile(input, bytes);
    await run("ffmpeg", ["-v", "error", "-y", "-i", input, ...extra, "-pix_fmt", "yuv420p", out]);
    return new Uint8Array(await readFile(out));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
