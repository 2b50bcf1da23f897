/**
 * Checks on the files a command is told to write, made before any work starts: a run that scores for an hour and
 * then cannot write its output (or overwrites its own input) is the worst way to learn about a typo.
 */
import { constants, promises as fsp, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { GlmvError } from "../util/errors.ts";

const statOrUndefined = (path: string): Promise<Stats | undefined> => fsp.stat(path).catch(() => undefined);

/** The real path `path` would have: symlinks resolved in the path itself, or in its folder when it does not exist. */
async function realPathOf(path: string): Promise<string> {
  const abs = resolve(path);
  const real = await fsp.realpath(abs).catch(() => undefined);
  if (real !== undefined) return real;
  const folder = await fsp.realpath(dirname(abs)).catch(() => dirname(abs));
  return join(folder, basename(abs));
}

/**
 * Refuse an output path `flag` = `out` whose folder is missing or not writable, that is a folder itself, or that is
 * one of `inputs` (same real path, or a hard link to the same file). Throws `bad_argument` naming the flag.
 * @example await checkOutputPath("scored.jsonl", "--out", { "--in": "items.jsonl" });
 */
export async function checkOutputPath(
  out: string,
  flag: string,
  inputs: Record<string, string> = {},
): Promise<void> {
  const folder = dirname(resolve(out));
  const folderStat = await statOrUndefined(folder);
  if (!folderStat) throw new GlmvError("bad_argument", `${flag} ${out}: folder ${folder} does not exist`);
  if (!folderStat.isDirectory())
    throw new GlmvError("bad_argument", `${flag} ${out}: ${folder} is not a folder`);
  // the output is written to a temp file beside it and renamed, so the folder must be writable
  await fsp.access(folder, constants.W_OK).catch(() => {
    throw new GlmvError("bad_argument", `${flag} ${out}: folder ${folder} is not writable`);
  });
  const outStat = await statOrUndefined(out);
  if (outStat?.isDirectory())
    throw new GlmvError("bad_argument", `${flag} ${out} is a folder; give a file path`);
  const outReal = await realPathOf(out);
  for (const [inFlag, input] of Object.entries(inputs)) {
    const inStat = await statOrUndefined(input);
    const sameFile =
      outReal === (await realPathOf(input)) ||
      (outStat !== undefined &&
        inStat !== undefined &&
        outStat.dev === inStat.dev &&
        outStat.ino === inStat.ino);
    if (sameFile)
      throw new GlmvError(
        "bad_argument",
        `${flag} ${out} is the same file as ${inFlag}; it would be overwritten`,
      );
  }
}
