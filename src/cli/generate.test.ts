import { describe, expect, it } from "vitest";
import { presetConfig } from "../model/config.ts";
import { loadTinyTokenizer } from "../model/tokenizer.ts";
import { chatStyleFor, parseGenerateArgs, promptIds } from "./generate.ts";

describe("parseGenerateArgs", () => {
  it("applies defaults and derives the 4.5V style from --no-think", () => {
    const a = parseGenerateArgs(["--model", "m", "--image", "i.png", "--prompt", "hi", "--no-think"]);
    expect(a).toMatchObject({ style: "4.5v", noThink: true, maxNewTokens: 256, temperature: 0, topP: 1 });
    const b = parseGenerateArgs(["--model", "m", "--image", "i", "--prompt", "p", "--max-new-tokens", "7"]);
    expect(b).toMatchObject({ noThink: false, maxNewTokens: 7 });
    expect(b).not.toHaveProperty("style", expect.anything()); // left to the model: chatStyleFor
    const c = parseGenerateArgs(["--model", "m", "--image", "i", "--prompt", "p", "--style", "4.1v"]);
    expect(c).toMatchObject({ style: "4.1v" });
  });
  it("chatStyleFor: an explicit style wins; otherwise 4.5V for a MoE config, 4.1V for a dense one", () => {
    expect(chatStyleFor(undefined, presetConfig("tiny"))).toBe("4.1v");
    expect(chatStyleFor(undefined, presetConfig("tiny-moe"))).toBe("4.5v");
    expect(chatStyleFor(undefined, presetConfig("glm-4.5v"))).toBe("4.5v");
    expect(chatStyleFor("4.1v", presetConfig("tiny-moe"))).toBe("4.1v");
    expect(chatStyleFor("4.5v", presetConfig("tiny"))).toBe("4.5v");
  });
  it("returns usage errors as strings and null for --help", () => {
    expect(parseGenerateArgs(["--help"])).toBeNull();
    expect(parseGenerateArgs(["--model", "m", "--image", "i"])).toMatch(/--prompt/);
    expect(
      parseGenerateArgs(["--model", "m", "--image", "i", "--prompt", "p", "--temperature", "-1"]),
    ).toMatch(/--temperature/);
    expect(parseGenerateArgs(["--model", "m", "--image", "i", "--prompt", "p", "--bogus"])).toMatch(/bogus/);
    expect(
      parseGenerateArgs(["--model", "m", "--image", "i", "--prompt", "p", "--no-think", "--style", "4.1v"]),
    ).toMatch(/no-think/);
  });
});

describe("promptIds", () => {
  it("expands the image and applies the thinking switch", async () => {
    const tok = await loadTinyTokenizer();
    const s = tok.special;
    const think = promptIds(tok, { gridThw: [1, 4, 6] }, "Q?", { style: "4.5v", thinking: true });
    const noThink = promptIds(tok, { gridThw: [1, 4, 6] }, "Q?", { style: "4.5v", thinking: false });
    expect(think.filter((t) => t === s.image)).toHaveLength(6);
    expect(think.slice(0, 2)).toEqual([s.gMask, s.sop]);
    expect(tok.decode(noThink)).toContain("Q?/nothink");
    expect(noThink.slice(-3)).toEqual([s.thinkStart, s.thinkEnd, ...tok.encode("\n")]);
    expect(think.at(-1)).toBe(tok.encode("\n")[0]);
  });
});
