import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { scoreItems } from "./index.ts";
import type { ScoreInput } from "./system.ts";

const r41 = (a: string) => `<think>look</think><answer><|begin_of_box|>${a}<|end_of_box|></answer>`;

describe("scoreItems (library API)", () => {
  it("scores a batch in workers and asks the judge only about undecidable text", async () => {
    const prompts: string[] = [];
    const server = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => {
        raw += c;
      });
      req.on("end", () => {
        prompts.push((JSON.parse(raw) as { messages: { content: string }[] }).messages[0]!.content);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ choices: [{ message: { content: "1.0" } }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
    try {
      const items: ScoreInput[] = [
        {
          id: 1,
          domain: "text",
          response: r41("the colour of the sky"),
          answer: "blue",
          question: "What colour?",
        },
        { id: 2, domain: "counting", response: r41("4"), answer: "3" },
        { id: 3, domain: "text", response: r41("blue or red"), answer: "blue" },
      ];
      const results = await scoreItems(items, { workers: 1, judge: { judges: [{ url, model: "m" }] } });
      expect(results.map((r) => r.correct)).toEqual([true, false, false]);
      expect(results[0]!.reason).toMatch(/judge: correct/);
      expect(prompts).toHaveLength(1);
      expect(prompts[0]).toContain("the colour of the sky");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("works without a judge and returns [] for no items", async () => {
    expect(await scoreItems([], { workers: 1 })).toEqual([]);
    const [r] = await scoreItems([{ id: 1, domain: "counting", response: r41("3"), answer: "3" }], {
      workers: 1,
    });
    expect(r).toMatchObject({ reward: 1, correct: true, timedOut: false });
  });

  it("throws a typed error for a bad item or judge config before starting any worker", async () => {
    const items = [
      { id: 1, domain: "counting", response: r41("3"), answer: "3" },
      { id: 2, domain: "counting", response: r41("3"), answer: 3 },
    ] as unknown as ScoreInput[];
    await expect(scoreItems(items, { workers: 1 })).rejects.toMatchObject({
      name: "GlmvError",
      code: "bad_input",
      where: "items.1.answer",
    });
    // An invalid worker module would fail at start-up: validation must come first.
    await expect(
      scoreItems([{ ...items[0]!, response: null } as unknown as ScoreInput], {
        extraVerifiersModule: "file:///no/such/module.ts",
      }),
    ).rejects.toMatchObject({ code: "bad_input", where: "items.0.response" });
    await expect(
      scoreItems([items[0]!], { workers: 1, judge: { judges: [{ url: "not a url", model: "m" }] } }),
    ).rejects.toMatchObject({ code: "bad_config", where: "judge.judges.0.url" });
  });
});
