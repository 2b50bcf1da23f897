/**
 * The `glmv` exit-code policy, in one place: what a thrown error means for the user and which code the process
 * exits with.
 *   0  the job ran
 *   1  the job itself failed (a write failed, a worker crashed, the engine broke) — or an internal bug
 *   2  a usage or input mistake the user can fix: a bad option, config or input file, a file that is not there,
 *      a port that is taken, privileged or out of range
 * Every failure is one line on stderr; a stack trace only with GLMV_DEBUG=1.
 */

import { z } from "zod";
import { listenFailure } from "../serve/listen.ts";
import type { GlmvErrorCode } from "../util/errors.ts";
import { isGlmvError } from "../util/errors.ts";
import { zodErrorLine } from "../util/zod-error.ts";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** GlmvError codes that mean "the input you gave cannot be used" (exit 2); the rest are job failures (exit 1). */
const INPUT_CODES: ReadonlySet<GlmvErrorCode> = new Set<GlmvErrorCode>([
  "bad_argument",
  "bad_config",
  "bad_input",
  "not_found",
  "image_invalid",
  "checkpoint_corrupt",
  "checkpoint_mismatch",
  "unsupported_dtype",
]);

/** File-system errors about a path the user named (exit 2), in words. Others (ENOSPC, EIO…) are job failures. */
const PATH_MISTAKES: Record<string, string> = {
  ENOENT: "no such file or folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a folder, not a file",
  ENOTDIR: "a part of the path is not a folder",
  ENAMETOOLONG: "path too long",
  ELOOP: "too many symbolic links",
};

const SYSCALL_VERBS: Record<string, string> = {
  open: "cannot open",
  read: "cannot read",
  scandir: "cannot list",
  stat: "cannot find",
  lstat: "cannot find",
  mkdir: "cannot create folder",
  rename: "cannot move into place",
  unlink: "cannot remove",
};

/** What to print and which code to exit with. */
export type Failure = { line: string; exitCode: number };

type NodeError = Error & { code?: string; syscall?: string; path?: string; port?: number; address?: string };

/** A listen() failure: the port in use, privileged, out of range, or not an address of this machine. */
function describeListenError(e: NodeError): Failure | undefined {
  if (e.code === "ERR_SOCKET_BAD_PORT") {
    // Node says "Received type number (99999)."; the value in the parentheses is what the user typed
    const m = /Received (?:type \w+ \((.*)\)|(.*?))\.?$/.exec(e.message);
    const received = m?.[1] ?? m?.[2];
    return {
      line: `--port must be an integer in [0, 65535]${received ? `, got ${received}` : ""}`,
      exitCode: EXIT_USAGE,
    };
  }
  if (e.syscall !== "listen") return undefined;
  const known = listenFailure(e, e.address ?? "?", e.port ?? Number.NaN);
  if (known) return { line: known.message, exitCode: EXIT_USAGE };
  return {
    line: `cannot listen on port ${e.port ?? "?"} on ${e.address ?? "?"}: ${e.message}`,
    exitCode: EXIT_FAILED,
  };
}

/** A file-system error with a path: name the path and what is wrong with it. */
function describePathError(e: NodeError): Failure | undefined {
  if (typeof e.code !== "string" || typeof e.path !== "string") return undefined;
  const verb = SYSCALL_VERBS[e.syscall ?? ""] ?? "cannot use";
  const mistake = PATH_MISTAKES[e.code];
  if (mistake) return { line: `${verb} ${e.path}: ${mistake}`, exitCode: EXIT_USAGE };
  return { line: `${verb} ${e.path}: ${e.code}`, exitCode: EXIT_FAILED };
}

/** The first line of a message, with any further lines folded in so nothing spills onto a second line. */
export function oneLine(message: string): string {
  return message
    .trim()
    .split(/\n+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .join("; ");
}

/**
 * Turn anything a command threw into one line and an exit code.
 * @example describeFailure(new GlmvError("bad_config", "no text_config")) // { line: "bad_config: no text_config", exitCode: 2 }
 */
export function describeFailure(e: unknown): Failure {
  if (isGlmvError(e)) {
    return {
      line: `${e.code}: ${oneLine(e.message)}`,
      // a port taken or privileged is fixed with another --port, though the error is the server's io_error
      exitCode:
        INPUT_CODES.has(e.code) ||
        (e.cause instanceof Error && describeListenError(e.cause)?.exitCode === EXIT_USAGE)
          ? EXIT_USAGE
          : EXIT_FAILED,
    };
  }
  if (!(e instanceof Error)) return { line: `internal error: ${String(e)}`, exitCode: EXIT_FAILED };
  const node = e as NodeError;
  const known = describeListenError(node) ?? describePathError(node);
  if (known) return known;
  // yaml's parse errors carry a code snippet after the first line; the first line says what and where
  if (e.name === "YAMLParseError" || e.name === "YAMLWarning")
    return { line: `invalid YAML: ${e.message.split("\n")[0]}`, exitCode: EXIT_USAGE };
  if (e instanceof z.ZodError) {
    return { line: `invalid input: ${zodErrorLine(undefined, e, undefined).message}`, exitCode: EXIT_USAGE };
  }
  return {
    line: `internal error: ${e.name}: ${oneLine(e.message)} (set GLMV_DEBUG=1 for the stack trace)`,
    exitCode: EXIT_FAILED,
  };
}
