import { describe, expect, it } from "vitest";
import { isGlmvError } from "../../../util/errors.ts";
import { imageDataUrl, toOpenAIMessages } from "./openai-messages.ts";

const grey = { data: new Uint8Array([0, 255, 128, 64]), width: 2, height: 2, channels: 1 };
const rgb = { data: new Uint8Array(2 * 2 * 3).fill(9), width: 2, height: 2, channels: 3 };

describe("toOpenAIMessages", () => {
  it("maps image items to data-URL parts in order, plain text to strings, observation to tool", async () => {
    const msgs = await toOpenAIMessages({
      id: "q",
      images: [rgb, grey],
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: [{ type: "image" }, { type: "text", text: "and" }, { type: "image" }] },
        {
          role: "assistant",
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "b" },
          ],
        },
        { role: "observation", content: "result" },
      ],
    });
    expect(msgs[0]).toEqual({ role: "system", content: "be brief" });
    const parts = msgs[1]!.content as { type: string; image_url?: { url: string } }[];
    expect(parts.map((p) => p.type)).toEqual(["image_url", "text", "image_url"]);
    expect(parts[0]!.image_url!.url).toBe(await imageDataUrl(rgb));
    expect(parts[2]!.image_url!.url).toBe(await imageDataUrl(grey));
    expect(parts[0]!.image_url!.url).not.toBe(parts[2]!.image_url!.url);
    expect(msgs[2]).toEqual({ role: "assistant", content: "ab" });
    expect(msgs[3]).toEqual({ role: "tool", content: "result" });
  });

  it("decodes back to the same pixels (PNG data URL)", async () => {
    const sharp = (await import("sharp")).default;
    const url = await imageDataUrl(rgb);
    expect(url.startsWith("data:image/png;base64,")).toBe(true);
    const raw = await sharp(Buffer.from(url.split(",")[1]!, "base64"))
      .raw()
      .toBuffer();
    expect([...raw]).toEqual([...rgb.data]);
  });

  it("rejects image items and images that disagree in number, and videos", async () => {
    const user = (content: never) => [{ role: "user" as const, content }];
    for (const p of [
      { id: "a", images: [], messages: user([{ type: "image" }] as never) },
      { id: "b", images: [rgb], messages: user([{ type: "text", text: "x" }] as never) },
      { id: "c", images: [], messages: user([{ type: "video" }] as never) },
    ]) {
      const err = await toOpenAIMessages(p).catch((e: unknown) => e);
      expect(isGlmvError(err) && err.code === "bad_input").toBe(true);
    }
  });
});
