/**
 * One line from a zod error: the first problem, named by its dotted path (or by whatever the caller calls that path,
 * e.g. the CLI flag that set it), what the schema expects there and what it got. An unknown key (a strict object's
 * `unrecognized_keys`) names the nearest valid key at its level, so `rl.stepz` says "did you mean 'rl.steps'?".
 */
import { closest } from "fastest-levenshtein";
import type { z } from "zod";
import { GlmvError, type GlmvErrorCode } from "./errors.ts";

export type ConfigPath = readonly PropertyKey[];

/** How the caller names things: the input's source (a file), a path's own name (a flag), a path's line. */
export type ZodLineContext = {
  /** Where the input came from, e.g. a YAML file: the message says "in <source>". */
  source?: string | undefined;
  /** A name for a path other than its dotted form (e.g. `--steps` for `rl.steps`); the source is then not named. */
  nameOf?: ((path: ConfigPath) => string | undefined) | undefined;
  /** The source's line of a path, for `where` (`<source>:<line>`). */
  lineOf?: ((path: ConfigPath) => number | undefined) | undefined;
  /** Where the input sits in a larger one (a request's `items.3`): dotted paths and `where` start with it. */
  prefix?: string | undefined;
};

/** `where` is the source (and line) or the dotted path; undefined when the caller named the path (a flag). */
export type ZodLine = { message: string; path: ConfigPath; where: string | undefined };

type AnySchema = z.core.$ZodType;
type Issue = z.core.$ZodIssue;

const dotted = (path: ConfigPath) => path.map(String).join(".");
const prefixed = (path: ConfigPath, prefix: string | undefined) =>
  prefix === undefined ? dotted(path) : path.length ? `${prefix}.${dotted(path)}` : prefix;

/** Strip wrappers that do not change what a value must look like (defaults, optional, preprocess). */
function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: AnySchema; out?: AnySchema; in?: AnySchema };
    if (def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.out && def.in) {
      // a preprocess is a pipe from a transform into the real schema
      s = (def.in._zod.def as { type: string }).type === "transform" ? def.out : def.in;
    } else return s;
  }
}

/** The schema at `path` inside `schema`, or undefined where the path leaves it (or there is no schema). */
function schemaAt(schema: AnySchema | undefined, path: ConfigPath): AnySchema | undefined {
  let s: AnySchema | undefined = schema && unwrap(schema);
  for (const key of path) {
    if (!s) return undefined;
    const def = s._zod.def as {
      type: string;
      shape?: Record<string, AnySchema>;
      element?: AnySchema;
      valueType?: AnySchema;
    };
    const next =
      def.type === "object" ? def.shape?.[String(key)] : def.type === "array" ? def.element : def.valueType;
    s = next && unwrap(next);
  }
  return s;
}

const valueAt = (input: unknown, path: ConfigPath): unknown =>
  path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    input,
  );

/** "an integer ≥ 0", "a number in (0, 1]", "one of a, b": what a leaf schema accepts, when it can be said simply. */
function describeExpected(schema: AnySchema | undefined): string | undefined {
  if (!schema) return undefined;
  const def = schema._zod.def as {
    type: string;
    entries?: Record<string, unknown>;
    checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string } } }[];
  };
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  if (def.type === "number") {
    const integer = checks.some((c) => c.check === "number_format" && /int/.test(c.format ?? ""));
    const bounds = checks.flatMap((c) =>
      c.check === "greater_than"
        ? [`${c.inclusive ? "≥" : ">"} ${c.value}`]
        : c.check === "less_than"
          ? [`${c.inclusive ? "≤" : "<"} ${c.value}`]
          : [],
    );
    return `${integer ? "an integer" : "a number"}${bounds.length ? ` ${bounds.join(" and ")}` : ""}`;
  }
  if (def.type === "enum" && def.entries) return `one of ${Object.values(def.entries).join(", ")}`;
  if (def.type === "boolean") return "true or false";
  if (def.type === "string") return "a string";
  if (def.type === "object") return "a mapping of keys";
  if (def.type === "array") {
    const min = (def.checks ?? []).map((c) => c._zod.def as { check: string; minimum?: number });
    const least = min.find((c) => c.check === "min_length")?.minimum;
    return least ? `a list of at least ${least} item${least === 1 ? "" : "s"}` : "a list";
  }
  return undefined;
}

const show = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value));

/**
 * The first problem of `error` (unknown keys first: a typo explains the rest) as one line. Without the schema (a
 * stray `ZodError`) the line says what zod said; with it, what the schema expects there and the nearest valid key.
 * This is the one wording of zod errors: configs, flags, request bodies and the CLI's last-resort handler use it.
 * @example
 * const r = RlConfig.safeParse({ rl: { stepz: 3 } });
 * zodErrorLine(RlConfig, r.error!, { rl: { stepz: 3 } }, { source: "run.yaml" }).message
 * // "unknown key 'rl.stepz' in run.yaml (did you mean 'rl.steps'?)"
 */
export function zodErrorLine(
  schema: AnySchema | undefined,
  error: z.core.$ZodError,
  input: unknown,
  ctx: ZodLineContext = {},
): ZodLine {
  const issues = error.issues;
  const issue: Issue = issues.find((i) => i.code === "unrecognized_keys") ?? issues[0]!;
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  const path: ConfigPath =
    issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : (issue.path as ConfigPath);
  const name = ctx.nameOf?.(path);
  const inSource = name === undefined && ctx.source ? ` in ${ctx.source}` : "";
  const line = ctx.lineOf?.(path);
  const where =
    name !== undefined
      ? undefined
      : ctx.source
        ? `${ctx.source}${line ? `:${line}` : ""}`
        : prefixed(path, ctx.prefix) || undefined;
  if (issue.code === "unrecognized_keys") {
    const parent = schemaAt(schema, issue.path as ConfigPath);
    const shape = parent && (parent._zod.def as { shape?: Record<string, unknown> }).shape;
    const valid = shape ? Object.keys(shape) : [];
    const parentPath = prefixed(issue.path as ConfigPath, ctx.prefix);
    const near = valid.length ? closest(String(path.at(-1)), valid) : undefined;
    const hint = near ? ` (did you mean '${parentPath ? `${parentPath}.` : ""}${near}'?)` : "";
    return { message: `unknown key '${prefixed(path, ctx.prefix)}'${inSource}${hint}${more}`, path, where };
  }
  const expected = describeExpected(schemaAt(schema, path));
  const what = expected ? `must be ${expected}` : `is invalid (${issue.message})`;
  const got = show(valueAt(input, path));
  const subject = name ?? (prefixed(path, ctx.prefix) || "input");
  const gotPart = input === undefined ? "" : `, got ${got}`;
  return { message: `${subject} ${what}${gotPart}${inSource}${more}`, path, where };
}

/**
 * Parse `input` with `schema`, or throw a `GlmvError` carrying `zodErrorLine`'s one line.
 * @example parseOrThrow(RlConfig, yaml, "bad_config", { source: "run.yaml" })
 */
export function parseOrThrow<S extends AnySchema>(
  schema: S,
  input: unknown,
  code: GlmvErrorCode,
  ctx: ZodLineContext = {},
): z.output<S> {
  const parsed = (schema as unknown as z.ZodType).safeParse(input);
  if (parsed.success) return parsed.data as z.output<S>;
  const line = zodErrorLine(schema, parsed.error, input, ctx);
  throw new GlmvError(code, line.message, {
    ...(line.where ? { where: line.where } : {}),
    cause: parsed.error,
  });
}
