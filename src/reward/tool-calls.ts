/**
 * Tool calls in GLM-4.5V/4.6V responses (glmv issue 19 part 3). GLM-4.6V calls tools natively, in the GLM-4.5
 * markup `<tool_call>name\n<arg_key>k</arg_key>\n<arg_value>v</arg_value>…</tool_call>` after its reasoning; some
 * templates write the JSON form `<tool_call>{"name": …, "arguments": {…}}</tool_call>` instead. Both are read here.
 *
 * A tool call is not an answer: on an ordinary item it is a format failure ("tool_call"), whatever box sits next
 * to it. An item whose answer IS a call (`expectsToolCall: true`) is scored by comparing the calls: same function
 * names and arguments (values compared as JSON when they parse as JSON, else as trimmed text; key order and the
 * order of parallel calls do not matter). Extra or missing calls are wrong: a spray of calls is a hedge.
 */

import { SPECIAL_TOKENS } from "../model/special-tokens.ts";
import { stripThinking } from "./clean.ts";
import { indexOfTag, scanToolCallSpans, TOOL_CALL_TAGS } from "./extract.ts";
import { stripStopTokens } from "./format.ts";
import type { FormatStatus, Verifier } from "./types.ts";

/** One call: the function's name and its arguments, values normalised (see `normalizeValue`). */
export type ToolCall = { name: string; arguments: Record<string, unknown> };

/** What `extractToolCalls` found after the reasoning of a response. */
export type ToolCallExtraction = {
  /** Tool-call openers after the reasoning, complete or not: any at all means the response calls a tool. */
  found: number;
  /** "ok" when every call parsed; else why the calls are not an answer. */
  format: FormatStatus;
  /** The calls as canonical JSON (`canonicalToolCalls`) when `format` is "ok"; else null. */
  extracted: string | null;
  /** Why, when not ok. */
  reason: string;
};

const { argKeyOpen, argKeyClose, argValueOpen, argValueClose } = TOOL_CALL_TAGS;
// A function name: what vLLM's glm45 parser takes from the first line, without spaces or markup.
const FUNCTION_NAME = /^[^\s<>]+$/;

/**
 * An argument value in one form whatever the writer: text that parses as JSON is that JSON value (`3` and
 * `"3"` differ from `"three"` but not from each other's JSON reading), other text is trimmed; arrays and objects
 * are normalised all the way down.
 */
function normalizeValue(v: unknown): unknown {
  if (typeof v === "string") {
    const text = v.trim();
    try {
      const parsed: unknown = JSON.parse(text);
      return typeof parsed === "string" ? parsed.trim() : normalizeValue(parsed);
    } catch {
      return text;
    }
  }
  if (Array.isArray(v)) return v.map(normalizeValue);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalizeValue(x)]));
  }
  return v;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** A JSON call: `{name, arguments}`, OpenAI's `{type: "function", function: {name, arguments}}` (arguments as an
 * object or a JSON string); null when it is none of them. */
function callFromJson(value: unknown): ToolCall | null {
  if (!isRecord(value)) return null;
  const fn = isRecord(value.function) ? value.function : value;
  const name = typeof fn.name === "string" ? fn.name.trim() : "";
  if (!FUNCTION_NAME.test(name)) return null;
  let args: unknown = fn.arguments ?? fn.parameters ?? {};
  if (typeof args === "string") {
    try {
      args = JSON.parse(args);
    } catch {
      return null;
    }
  }
  if (!isRecord(args)) return null;
  return { name, arguments: normalizeValue(args) as Record<string, unknown> };
}

/** The GLM-4.5 markup inside one `<tool_call>`: the name, then key/value pairs and nothing else. */
function callFromMarkup(body: string): ToolCall | null {
  const firstKey = body.indexOf(argKeyOpen);
  const name = (firstKey === -1 ? body : body.slice(0, firstKey)).trim();
  if (!FUNCTION_NAME.test(name)) return null;
  const args: Record<string, unknown> = {};
  const skipSpace = (i: number) => {
    while (i < body.length && /\s/.test(body[i]!)) i++;
    return i;
  };
  for (let at = skipSpace(firstKey === -1 ? body.length : firstKey); at < body.length; ) {
    if (!body.startsWith(argKeyOpen, at)) return null;
    const keyEnd = body.indexOf(argKeyClose, at);
    if (keyEnd === -1) return null;
    const key = body.slice(at + argKeyOpen.length, keyEnd).trim();
    at = skipSpace(keyEnd + argKeyClose.length);
    if (!body.startsWith(argValueOpen, at)) return null;
    const valueEnd = body.indexOf(argValueClose, at);
    if (valueEnd === -1) return null;
    // A key given twice is two different calls written as one: not a call.
    if (key.length === 0 || Object.hasOwn(args, key)) return null;
    args[key] = normalizeValue(body.slice(at + argValueOpen.length, valueEnd));
    at = skipSpace(valueEnd + argValueClose.length);
  }
  return { name, arguments: args };
}

/**
 * Parse the content of one `<tool_call>…</tool_call>` (markup or JSON form); null when it is not a call.
 * @example parseToolCall("get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>")
 * // { name: "get_weather", arguments: { city: "Paris" } }
 */
export function parseToolCall(body: string): ToolCall | null {
  const text = body.trim();
  if (text.startsWith("{")) {
    try {
      return callFromJson(JSON.parse(text));
    } catch {
      return null;
    }
  }
  return callFromMarkup(text);
}

/** JSON with object keys sorted at every depth: one spelling per value. */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(",")}]`;
  if (isRecord(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/**
 * The calls as one canonical JSON text: a call is `{"arguments":{…},"name":…}` with keys sorted; several calls
 * are an array in sorted order (parallel calls have no order). Equal calls give equal text.
 * @example canonicalToolCalls([{ name: "f", arguments: { b: 2, a: 1 } }]) // '{"arguments":{"a":1,"b":2},"name":"f"}'
 */
export function canonicalToolCalls(calls: readonly ToolCall[]): string {
  const each = calls.map((c) => sortedJson({ name: c.name, arguments: c.arguments })).sort();
  return each.length === 1 ? each[0]! : `[${each.join(",")}]`;
}

/**
 * Every call in a text: `<tool_call>` blocks if there are any, else one JSON call or a JSON array of calls (the
 * shapes a reference answer is written in). Null when any part is not a call.
 * @example parseToolCalls('{"name":"zoom","arguments":{"factor":2}}')?.[0]?.name // "zoom"
 */
export function parseToolCalls(text: string): ToolCall[] | null {
  const { complete, unclosed } = scanToolCallSpans(text);
  if (complete.length > 0 || unclosed) {
    if (unclosed) return null;
    const calls = complete.map((s) => parseToolCall(text.slice(s.contentStart, s.contentEnd)));
    return calls.every((c) => c !== null) ? (calls as ToolCall[]) : null;
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return null;
  }
  const calls = (Array.isArray(value) ? value : [value]).map(callFromJson);
  return calls.length > 0 && calls.every((c) => c !== null) ? (calls as ToolCall[]) : null;
}

const fail = (found: number, format: FormatStatus, reason: string): ToolCallExtraction => ({
  found,
  format,
  extracted: null,
  reason,
});

/**
 * The tool calls a response makes after its reasoning (calls drafted inside `<think>` do not count), read for an
 * item that expects one. `found` alone answers "does this response call a tool?" for every other item.
 * @example extractToolCalls("<think>need the weather</think><tool_call>weather\n<arg_key>city</arg_key><arg_value>Oslo</arg_value></tool_call>")
 * // { found: 1, format: "ok", extracted: '{"arguments":{"city":"Oslo"},"name":"weather"}', reason: "" }
 */
export function extractToolCalls(response: string): ToolCallExtraction {
  // Most responses call nothing: one search decides it.
  if (!response.includes(TOOL_CALL_TAGS.open)) return fail(0, "missing_tool_call", "no tool call");
  const text = stripStopTokens(response);
  const open = indexOfTag(text, SPECIAL_TOKENS.thinkStart);
  const unclosedThink = open !== -1 && indexOfTag(text, SPECIAL_TOKENS.thinkEnd, open) === -1;
  const region = stripThinking(text);
  const { complete, unclosed } = scanToolCallSpans(region);
  const found = complete.length + (unclosed ? 1 : 0);
  if (unclosedThink) return fail(found, "unclosed_think", "the reasoning never closed");
  if (found === 0) return fail(0, "missing_tool_call", "no tool call after the reasoning");
  if (unclosed) return fail(found, "missing_tool_call", "a <tool_call> never closed");
  const calls: ToolCall[] = [];
  for (const [i, span] of complete.entries()) {
    const call = parseToolCall(region.slice(span.contentStart, span.contentEnd));
    if (call === null) return fail(found, "missing_tool_call", `tool call ${i + 1} is not a function call`);
    calls.push(call);
  }
  return { found, format: "ok", extracted: canonicalToolCalls(calls), reason: "" };
}

/**
 * Compare the calls a response made (canonical JSON from `extractToolCalls`) with the reference calls (markup or
 * JSON): 1 when they are the same calls, else 0 saying what differs. Never throws.
 * @example verifyToolCall('{"arguments":{"city":"Oslo"},"name":"weather"}', '{"name":"weather","arguments":{"city":"Oslo"}}', {}).correct // true
 */
export const verifyToolCall: Verifier = (pred, gold) => {
  const want = parseToolCalls(gold);
  if (want === null) return { score: 0, correct: false, reason: "the reference answer is not a tool call" };
  const got = parseToolCalls(pred);
  if (got === null) return { score: 0, correct: false, reason: "the prediction is not a tool call" };
  if (canonicalToolCalls(got) === canonicalToolCalls(want)) {
    return { score: 1, correct: true, reason: `tool call${want.length === 1 ? "" : "s"} match` };
  }
  if (got.length !== want.length)
    return { score: 0, correct: false, reason: `${got.length} tool calls, expected ${want.length}` };
  const names = (cs: ToolCall[]) =>
    cs
      .map((c) => c.name)
      .sort()
      .join(", ");
  if (names(got) !== names(want))
    return { score: 0, correct: false, reason: `called ${names(got)}, expected ${names(want)}` };
  return { score: 0, correct: false, reason: "tool call arguments differ" };
};
