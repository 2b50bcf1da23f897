/**
 * `glmv reward clean [--in FILE] [--field response]`: the user-facing answers of GLM-V responses (`cleanAnswer`),
 * stdin → stdout by default. JSONL input keeps every line's other fields and replaces the named field; plain text is
 * one response. For clients that show answers to people: GLM-V's box tokens otherwise leak into the text.
 */
import { readFile } from "node:fs/promises";
import { cleanAnswer } from "../reward/clean.ts";
import { parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { EXIT_OK, EXIT_USAGE } from "./failure.ts";

const USAGE = `usage: glmv reward clean [--in FILE] [--field NAME]

Prints the answer of each GLM-V response as a person should see it: the reasoning (<think>…</think>), the 4.1V
<answer> tags, the box tokens <|begin_of_box|> / <|end_of_box|> and trailing stop tokens removed. A response still
thinking (an unclosed <think>) has no answer yet and cleans to "".

Input is read from stdin (or --in) and written to stdout, in one of two shapes:
  JSONL       one JSON object per line (recognised by its first line); each line is written back with its
              --field replaced by the clean answer, other fields unchanged
  plain text  anything else: the whole input is one response, written back clean

options:
  --in PATH      read this file instead of stdin
  --field NAME   the JSONL field to clean (default "response"); giving it means the input must be JSONL
  -h, --help     show this help

exit codes: 0 cleaned; 2 bad options, an unreadable --in, or a JSONL line that is not an object or has no
string --field (nothing is written then; the message names the line)`;

type Args = { in?: string; field: string; fieldGiven: boolean };

function parseCleanArgs(argv: string[]): Args | string | null {
  const values = parseCliArgs(argv, { in: { type: "string" }, field: { type: "string" } });
  if (typeof values === "string") return values;
  if (values.help) return null;
  const field = typeof values.field === "string" ? values.field : "response";
  if (field.length === 0) return "--field must name a field";
  const args: Args = { field, fieldGiven: typeof values.field === "string" };
  if (typeof values.in === "string") args.in = values.in;
  return args;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The line as a JSON object, or null when it is not one. */
function objectOf(line: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(line);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Clean a whole input: JSONL when its first non-blank line is a JSON object (or `fieldGiven`), else one plain
 * response. Returns the output text, or a message naming the line that could not be cleaned.
 * @example cleanInput('{"id":1,"response":"<think>t</think><|begin_of_box|>7<|end_of_box|>"}\n', "response", false)
 * // { output: '{"id":1,"response":"7"}\n' }
 */
export function cleanInput(
  text: string,
  field: string,
  fieldGiven: boolean,
): { output: string } | { error: string } {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const lines = body.split("\n");
  const first = lines.findIndex((l) => l.trim().length > 0);
  if (first === -1) return { output: fieldGiven ? "" : "\n" };
  if (!fieldGiven && objectOf(lines[first]!) === null) return { output: `${cleanAnswer(body)}\n` };
  const out: string[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim().length === 0) continue;
    const record = objectOf(line);
    if (record === null)
      return { error: `line ${i + 1}: not a JSON object (JSONL input needs one per line)` };
    const value = record[field];
    if (typeof value !== "string")
      return {
        error: `line ${i + 1}: field '${field}' is ${value === undefined ? "missing" : "not a string"}`,
      };
    out.push(JSON.stringify({ ...record, [field]: cleanAnswer(value) }));
  }
  return { output: out.map((l) => `${l}\n`).join("") };
}

async function run(argv: string[]): Promise<number> {
  const args = parseCleanArgs(argv);
  if (args === null) {
    console.log(USAGE);
    return EXIT_OK;
  }
  if (typeof args === "string") {
    console.error(`glmv reward clean: ${args}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  let text: string;
  try {
    text = args.in === undefined ? await readStdin() : await readFile(args.in, "utf8");
  } catch (e) {
    console.error(`glmv reward clean: cannot read --in ${args.in}: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
  const cleaned = cleanInput(text, args.field, args.fieldGiven);
  if ("error" in cleaned) {
    console.error(`glmv reward clean: ${cleaned.error}`);
    return EXIT_USAGE;
  }
  process.stdout.write(cleaned.output);
  return EXIT_OK;
}

export const rewardCleanCommand: Command = {
  summary: "print the user-facing answers of GLM-V responses (no reasoning, no box tokens)",
  run,
};
