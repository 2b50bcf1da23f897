import { describe, expect, it } from "vitest";
import {
  canonicalToolCalls,
  extractToolCalls,
  parseToolCall,
  parseToolCalls,
  verifyToolCall,
} from "./tool-calls.ts";

// GLM-4.5/4.6 markup, as vLLM/SGLang's glm45 tool parser reads it.
const call = (name: string, args: Record<string, string> = {}) =>
  `<tool_call>${name}\n${Object.entries(args)
    .map(([k, v]) => `<arg_key>${k}</arg_key>\n<arg_value>${v}</arg_value>\n`)
    .join("")}</tool_call>`;

describe("parseToolCall: the GLM-4.5 markup and the JSON form", () => {
  it("reads the name and each key/value pair; values that parse as JSON are JSON", () => {
    const body =
      "crop_image\n<arg_key>bbox</arg_key>\n<arg_value>[10, 20, 300, 400]</arg_value>\n<arg_key>label</arg_key>\n<arg_value>  cat </arg_value>\n<arg_key>zoom</arg_key><arg_value>2</arg_value>";
    expect(parseToolCall(body)).toEqual({
      name: "crop_image",
      arguments: { bbox: [10, 20, 300, 400], label: "cat", zoom: 2 },
    });
  });

  it("a call without arguments, and the JSON form (plain and OpenAI-style with string arguments)", () => {
    expect(parseToolCall("get_time")).toEqual({ name: "get_time", arguments: {} });
    expect(parseToolCall('{"name": "search", "arguments": {"query": "GLM-4.6V"}}')).toEqual({
      name: "search",
      arguments: { query: "GLM-4.6V" },
    });
    expect(
      parseToolCall(
        '{"type":"function","function":{"name":"search","arguments":"{\\"query\\": \\"GLM-4.6V\\"}"}}',
      ),
    ).toEqual({ name: "search", arguments: { query: "GLM-4.6V" } });
  });

  it("is null for what is not a call: no name, stray text between pairs, a key given twice, broken JSON", () => {
    expect(parseToolCall("")).toBeNull();
    expect(parseToolCall("two words")).toBeNull();
    expect(parseToolCall("f\n<arg_key>a</arg_key>\nstray<arg_value>1</arg_value>")).toBeNull();
    expect(parseToolCall("f\n<arg_key>a</arg_key><arg_value>1</arg_value> and more")).toBeNull();
    expect(
      parseToolCall(
        "f\n<arg_key>a</arg_key><arg_value>1</arg_value><arg_key>a</arg_key><arg_value>2</arg_value>",
      ),
    ).toBeNull();
    expect(parseToolCall("f\n<arg_key>a</arg_key><arg_value>1")).toBeNull();
    expect(parseToolCall('{"name": "f", "arguments": ')).toBeNull();
    expect(parseToolCall('{"arguments": {}}')).toBeNull();
  });
});

describe("canonicalToolCalls / parseToolCalls", () => {
  it("one spelling per set of calls: key order, value spelling and the order of parallel calls do not matter", () => {
    const a = parseToolCalls(`${call("f", { b: "2", a: "x" })}${call("g")}`)!;
    const b = parseToolCalls('[{"name":"g","arguments":{}},{"name":"f","arguments":{"a":"x","b":2}}]')!;
    expect(canonicalToolCalls(a)).toBe(canonicalToolCalls(b));
    expect(canonicalToolCalls(a)).toBe(
      '[{"arguments":{"a":"x","b":2},"name":"f"},{"arguments":{},"name":"g"}]',
    );
  });

  it("is null when any part is not a call, or a call never closed", () => {
    expect(parseToolCalls("just text")).toBeNull();
    expect(parseToolCalls(`${call("f")}<tool_call>g`)).toBeNull();
    expect(parseToolCalls('[{"name":"f"}, 3]')).toBeNull();
    expect(parseToolCalls("[]")).toBeNull();
  });
});

describe("extractToolCalls: the calls a response makes after its reasoning", () => {
  it("GLM-4.6V with thinking on: reasoning, a sentence, then the call", () => {
    const r = `<think>I need the weather first.</think>\nLet me check.\n${call("get_weather", { city: "Oslo" })}<|observation|>`;
    expect(extractToolCalls(r)).toEqual({
      found: 1,
      format: "ok",
      extracted: '{"arguments":{"city":"Oslo"},"name":"get_weather"}',
      reason: "",
    });
  });

  it("thinking off (no think block) and parallel calls", () => {
    const r = `${call("zoom", { factor: "2" })}\n${call("crop", { bbox: "[1,2,3,4]" })}`;
    const x = extractToolCalls(r);
    expect(x.found).toBe(2);
    expect(x.format).toBe("ok");
    expect(JSON.parse(x.extracted!)).toHaveLength(2);
  });

  it("a call drafted inside the reasoning is no call", () => {
    const r = `<think>I could write ${call("search", { q: "x" })} but no.</think>The answer is <|begin_of_box|>4<|end_of_box|>.`;
    expect(extractToolCalls(r)).toMatchObject({ found: 0, format: "missing_tool_call" });
  });

  it("names what is wrong: no call, an unclosed call, a malformed call, an unclosed thought", () => {
    expect(extractToolCalls("<think>t</think>just text")).toMatchObject({
      found: 0,
      format: "missing_tool_call",
    });
    expect(extractToolCalls("  <|user|>")).toMatchObject({ found: 0, format: "missing_tool_call" });
    expect(extractToolCalls("<think>t</think><tool_call>f\n<arg_key>a")).toMatchObject({
      found: 1,
      format: "missing_tool_call",
      reason: "a <tool_call> never closed",
    });
    expect(extractToolCalls("<tool_call>not a name at all</tool_call>")).toMatchObject({
      found: 1,
      format: "missing_tool_call",
      reason: "tool call 1 is not a function call",
    });
    expect(extractToolCalls(`<think>still ${call("f")}`)).toMatchObject({ format: "unclosed_think" });
  });
});

describe("verifyToolCall", () => {
  const pred = (r: string) => extractToolCalls(r).extracted!;

  it("1 for the same call whatever the reference's spelling (markup, JSON, OpenAI-style)", () => {
    const p = pred(`<think>t</think>${call("get_weather", { city: "Oslo", days: "3" })}`);
    for (const gold of [
      call("get_weather", { days: "3", city: "Oslo" }),
      '{"name":"get_weather","arguments":{"city":"Oslo","days":3}}',
      '{"type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Oslo\\",\\"days\\":\\"3\\"}"}}',
    ]) {
      expect(verifyToolCall(p, gold, {}), gold).toMatchObject({ score: 1, correct: true });
    }
  });

  it("0 with the reason for another function, other arguments, or extra and missing calls", () => {
    const gold = '{"name":"get_weather","arguments":{"city":"Oslo"}}';
    expect(verifyToolCall(pred(call("get_time")), gold, {})).toMatchObject({
      score: 0,
      reason: "called get_time, expected get_weather",
    });
    expect(verifyToolCall(pred(call("get_weather", { city: "Bergen" })), gold, {})).toMatchObject({
      score: 0,
      reason: "tool call arguments differ",
    });
    expect(verifyToolCall(pred(call("get_weather", { city: "Oslo", unit: "C" })), gold, {}).correct).toBe(
      false,
    );
    // A spray of calls that includes the right one is a hedge.
    const spray = pred(`${call("get_weather", { city: "Oslo" })}${call("get_weather", { city: "Bergen" })}`);
    expect(verifyToolCall(spray, gold, {})).toMatchObject({ score: 0, reason: "2 tool calls, expected 1" });
  });

  it("0, never a throw, when either side is not a call", () => {
    expect(verifyToolCall("4", '{"name":"f","arguments":{}}', {})).toMatchObject({
      score: 0,
      reason: "the prediction is not a tool call",
    });
    expect(verifyToolCall(pred(call("f")), "4", {})).toMatchObject({
      score: 0,
      reason: "the reference answer is not a tool call",
    });
  });
});
