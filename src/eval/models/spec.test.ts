import { afterEach, describe, expect, it } from "vitest";
import { type FakeServer, startFakeOpenAI } from "../fake-openai.fixture.ts";
import { OpenAIModelClient } from "./openai.ts";
import { createModelClient, parseModelSpec } from "./spec.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("parseModelSpec", () => {
  it("reads openai:URL[#model], local:DIR and tinker:URL", () => {
    expect(parseModelSpec("openai:http://localhost:8000/v1#glm-4.1v")).toEqual({
      kind: "openai",
      baseUrl: "http://localhost:8000/v1",
      model: "glm-4.1v",
    });
    expect(parseModelSpec("openai:https://api.example.com/v1/")).toEqual({
      kind: "openai",
      baseUrl: "https://api.example.com/v1",
    });
    expect(parseModelSpec("openai:http://h:1/v1#org/model-name:tag")).toMatchObject({
      model: "org/model-name:tag",
    });
    expect(parseModelSpec("local:runs/ckpt/step-100")).toEqual({ kind: "local", dir: "runs/ckpt/step-100" });
    expect(parseModelSpec("tinker:http://localhost:9000")).toEqual({
      kind: "tinker",
      url: "http://localhost:9000",
    });
  });

  it("refuses other forms with bad_argument naming the accepted ones", () => {
    for (const bad of [
      "glm-4.1v",
      "vllm:http://x",
      "openai:localhost:8000",
      "openai:ftp://x/v1",
      "local:",
      "",
    ]) {
      expect(() => parseModelSpec(bad), bad).toThrow(expect.objectContaining({ code: "bad_argument" }));
    }
    expect(() => parseModelSpec("nope", "--judge")).toThrow(/openai:URL\[#model\].*\(at --judge\)/);
  });
});

describe("createModelClient", () => {
  it("an openai spec without #model takes the first model the server lists", async () => {
    server = await startFakeOpenAI((_b, _n, path) =>
      path === "/v1/models" ? { json: { object: "list", data: [{ id: "glm-4.5v" }, { id: "other" }] } } : {},
    );
    const client = await createModelClient(parseModelSpec(`openai:${server.url}`), { style: "4.5v" });
    expect(client).toBeInstanceOf(OpenAIModelClient);
    expect(client.id).toBe(`openai:${server.url}#glm-4.5v`);
    expect((client as OpenAIModelClient).config.style).toBe("4.5v");
  });

  it("a server that lists no model is a bad_argument asking for #model", async () => {
    server = await startFakeOpenAI(() => ({ json: { data: [] } }));
    await expect(createModelClient(parseModelSpec(`openai:${server.url}`))).rejects.toMatchObject({
      code: "bad_argument",
      message: expect.stringContaining("openai:URL#model"),
    });
  });
});
