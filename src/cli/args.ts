/**
 * Command-line parsing shared by the `glmv` subcommands: strict options (no positionals, unknown flags refused)
 * with `-h/--help` added, and numeric options that fail with a message naming the flag.
 */
import { parseArgs } from "node:util";
import { GlmvError } from "../util/errors.ts";

export type CliValues = Record<string, string | boolean | undefined>;
export type CliOptions = Record<
  string,
  { type: "string" | "boolean"; short?: string; default?: string | boolean }
>;

/**
 * Parse `argv` against `options` (plus `--help`); a string is the parse error, to print with the usage.
 * @example parseCliArgs(["--port", "80"], { port: { type: "string" } }) // { port: "80" }
 */
export function parseCliArgs(argv: readonly string[], options: CliOptions): CliValues | string {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: { ...options, help: { type: "boolean", short: "h" } },
    }).values as CliValues;
  } catch (e) {
    return (e as Error).message;
  }
}

export type NumberRule = { integer?: boolean; min?: number; max?: number };

/**
 * The numeric option `--name`: undefined when absent, a `bad_argument` error when it is not a number, not an
 * integer where one is needed, or outside [min, max].
 * @example numberArg({ workers: "4" }, "workers", { integer: true, min: 1 }) // 4
 */
export function numberArg(values: CliValues, name: string, rule: NumberRule = {}): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const x = Number(raw);
  const range =
    rule.min !== undefined && rule.max !== undefined
      ? ` in [${rule.min}, ${rule.max}]`
      : rule.min !== undefined
        ? ` ≥ ${rule.min}`
        : rule.max !== undefined
          ? ` ≤ ${rule.max}`
          : "";
  const ok =
    typeof raw === "string" &&
    raw.trim() !== "" &&
    Number.isFinite(x) &&
    (!rule.integer || Number.isInteger(x)) &&
    (rule.min === undefined || x >= rule.min) &&
    (rule.max === undefined || x <= rule.max);
  if (!ok)
    throw new GlmvError(
      "bad_argument",
      `--${name} must be ${rule.integer ? "an integer" : "a number"}${range}, got '${String(raw)}'`,
    );
  return x;
}

/**
 * The option `--name` when it is one of `allowed`: undefined when absent, a `bad_argument` error otherwise.
 * @example choiceArg({ sampler: "uniform" }, "sampler", ["rlcs", "uniform"]) // "uniform"
 */
export function choiceArg<T extends string>(
  values: CliValues,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !(allowed as readonly string[]).includes(raw))
    throw new GlmvError(
      "bad_argument",
      `--${name} must be one of ${allowed.join(", ")}, got '${String(raw)}'`,
    );
  return raw as T;
}

/** `numberArg` for parsers that report errors as strings: the value, or the error's message. */
export function numberArgOrMessage(
  values: CliValues,
  name: string,
  rule: NumberRule = {},
): { value: number | undefined } | string {
  try {
    return { value: numberArg(values, name, rule) };
  } catch (e) {
    return (e as Error).message;
  }
}
