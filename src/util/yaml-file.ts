/**
 * Read a YAML file for validation: a missing file or broken YAML is a `GlmvError` naming the file (and line), and
 * `lineOf` finds the line of any key path, so a later schema error can point at it too.
 */
import { readFileSync } from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { GlmvError, type GlmvErrorCode } from "./errors.ts";
import type { ConfigPath } from "./zod-error.ts";

export type YamlFile = { value: unknown; lineOf: (path: ConfigPath) => number | undefined };

/**
 * @example const { value, lineOf } = readYamlFile("run.yaml"); lineOf(["rl", "steps"]) // 2
 */
export function readYamlFile(path: string, code: GlmvErrorCode = "bad_config"): YamlFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new GlmvError(code, `cannot read ${path}: ${reason}`, { where: path, cause: e });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0].line;
    // yaml's message ends with the position and a code excerpt over several lines: keep the first clause
    const reason = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new GlmvError(code, `${path} is not valid YAML${line ? ` (line ${line})` : ""}: ${reason}`, {
      where: line ? `${path}:${line}` : path,
      cause: error,
    });
  }
  const lineOf = (keys: ConfigPath): number | undefined => {
    if (keys.length === 0) return undefined;
    const parent = keys.length > 1 ? doc.getIn(keys.slice(0, -1), true) : doc.contents;
    if (!isMap(parent)) return undefined;
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(keys.at(-1)));
    const offset = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  return { value: doc.toJS(), lineOf };
}
