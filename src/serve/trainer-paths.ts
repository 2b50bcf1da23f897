/**
 * Where `glmv serve trainer` may read and write checkpoints: only under one root the operator names
 * (`--checkpoint-root`). A client's `path` / `model_path` is a name relative to that root; an absolute path, a `..`
 * segment, or a symlink that leads out of the root is refused with `bad_input` (HTTP 400) before anything is touched.
 */
import { lstatSync, mkdirSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep, win32 } from "node:path";
import { GlmvError } from "../util/errors.ts";

/** The root used when the operator names none: `trainer-checkpoints` under the working directory. */
export const DEFAULT_CHECKPOINT_ROOT = "trainer-checkpoints";

/** Longest checkpoint path a client may send (characters). */
const MAX_PATH_LENGTH = 1024;

export type CheckpointRoot = {
  /** The root as an absolute path (it is created on first use). */
  readonly root: string;
  /**
   * The absolute server path of the client's relative `path`, after checking it stays inside the root, symlinks
   * included; `where` names the request field in the error.
   */
  resolve(path: string, where: string): string;
};

const refuse = (path: string, why: string, where: string): never => {
  throw new GlmvError(
    "bad_input",
    `checkpoint path '${path.slice(0, 200)}' ${why}: send a name relative to the server's checkpoint root`,
    { where },
  );
};

/** True when `inner` is `outer` or below it (both absolute and normalised). */
const within = (outer: string, inner: string) => {
  const rel = relative(outer, inner);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
};

/**
 * @example
 * const ckpt = checkpointRoot("/srv/ckpt");
 * ckpt.resolve("run-1/sft", "path"); // "/srv/ckpt/run-1/sft"
 * ckpt.resolve("../etc", "path");   // throws GlmvError bad_input
 */
export function checkpointRoot(root: string): CheckpointRoot {
  const absRoot = resolve(root);
  /** The root's real path, made on first use (an operator may point the root itself at a symlink). */
  const realRoot = () => {
    mkdirSync(absRoot, { recursive: true });
    return realpathSync(absRoot);
  };
  return {
    root: absRoot,
    resolve(path, where) {
      if (path.length === 0) refuse(path, "is empty", where);
      if (path.length > MAX_PATH_LENGTH) refuse(path, `is longer than ${MAX_PATH_LENGTH} characters`, where);
      if (path.includes("\0")) refuse(path, "contains a NUL byte", where);
      if (isAbsolute(path) || win32.isAbsolute(path)) refuse(path, "is absolute", where);
      if (path.split(/[\\/]/).includes("..")) refuse(path, "contains '..'", where);
      const base = realRoot();
      const target = resolve(base, path);
      if (target === base || !within(base, target))
        refuse(path, "does not name a folder inside the root", where);
      // the deepest part that exists (a symlink counts, dangling or not) must really lie inside the root
      let existing = target;
      while (existing !== base && !lstatSync(existing, { throwIfNoEntry: false }))
        existing = dirname(existing);
      let real: string;
      try {
        real = realpathSync(existing);
      } catch {
        return refuse(path, "goes through a dangling symlink", where);
      }
      if (!within(base, real)) refuse(path, "leads out of the checkpoint root through a symlink", where);
      return join(real, relative(existing, target));
    },
  };
}
