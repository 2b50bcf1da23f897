/**
 * `glmv serve model` in a child process over a tiny random checkpoint, spoken to over real HTTP: the OpenAI chat
 * API (images as data and file URLs, the thinking switch, continuation, force-answering), bad bodies (400 naming the
 * field, OpenAI-shaped errors), the bearer token, and the bind rule.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGlmv, type SpawnedServer, spawnGlmvServer } from "../helpers/spawn-glmv.ts";
import { patternPng, writePatternPng, writeTinyCheckpoint } from "../helpers/tiny-checkpoint.ts";

const TOKEN = "s3cret-token";
let dir: string;
let media: string;
let server: SpawnedServer;
let pngDataUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "glmv-serve-model-"));
  await writeTinyCheckpoint(join(dir, "ckpt"));
  media = join(dir, "media");
  await writePatternPng(join(dir, "outside.png"), 60, 44, 1);
  const { mkdir } = await import("node:fs/promises");
  await mkdir(media);
  await writePatternPng(join(media, "a.png"), 60, 44, 1);
  pngDataUrl = `data:image/png;base64,${(await patternPng(60, 44, 1)).toString("base64")}`;
  server = await spawnGlmvServer([
    "serve",
    "model",
    "--model",
    join(dir, "ckpt"),
    "--port",
    "0",
    "--token",
    TOKEN,
    "--served-model-name",
    "glmv-tiny",
    "--style",
    "4.5v",
    "--max-tokens",
    "64",
    "--allowed-local-media-path",
    media,
  ]);
}, 60_000);

afterAll(async () => {
  server?.child.kill("SIGTERM");
  if (dir) await rm(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are read field by field
type Reply = { status: number; body: any };
const call = async (path: string, body?: unknown, token: string | null = TOKEN): Promise<Reply> => {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${server.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
};
const chat = (body: Record<string, unknown>, token?: string | null) =>
  call("/v1/chat/completions", body, token);
const ask = (text: string, url = pngDataUrl) => [
  {
    role: "user",
    content: [
      { type: "image_url", image_url: { url } },
      { type: "text", text },
    ],
  },
];

describe("glmv serve model: the OpenAI chat API over a checkpoint", () => {
  it("lists its model, answers an image question in OpenAI's shape, greedy answers repeat", async () => {
    const models = await call("/v1/models");
    expect(models.body.data.map((m: { id: string }) => m.id)).toEqual(["glmv-tiny"]);
    const body = { model: "glmv-tiny", messages: ask("What is shown?"), max_tokens: 6, temperature: 0 };
    const a = await chat(body);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ object: "chat.completion", model: "glmv-tiny" });
    const choice = a.body.choices[0];
    expect(typeof choice.message.content).toBe("string");
    expect(choice.message.role).toBe("assistant");
    expect(["stop", "length"]).toContain(choice.finish_reason);
    expect(a.body.usage.completion_tokens).toBeLessThanOrEqual(6);
    expect(a.body.usage.prompt_tokens).toBeGreaterThan(12); // the image's tokens are in the prompt
    const b = await chat(body);
    expect(b.body.choices[0].message.content).toBe(choice.message.content);
    // the same image from an allowed file URL is the same prompt
    const file = await chat({
      ...body,
      messages: ask("What is shown?", pathToFileURL(join(media, "a.png")).href),
    });
    expect(file.status).toBe(200);
    expect(file.body.choices[0].message.content).toBe(choice.message.content);
  });

  it("enable_thinking false and a trailing /nothink both switch thinking off (4.5V template)", async () => {
    const base = { messages: ask("Why?"), max_tokens: 4, temperature: 0 };
    const thinking = await chat(base);
    const kwarg = await chat({ ...base, chat_template_kwargs: { enable_thinking: false } });
    const suffix = await chat({ ...base, messages: ask("Why?/nothink") });
    // off: "/nothink" and an empty <think></think> join the prompt
    expect(kwarg.body.usage.prompt_tokens).toBeGreaterThan(thinking.body.usage.prompt_tokens);
    expect(suffix.body.usage.prompt_tokens).toBe(kwarg.body.usage.prompt_tokens);
    expect(suffix.body.choices[0].message.content).toBe(kwarg.body.choices[0].message.content);
  });

  it("continue_final_message continues the assistant's text; think_budget force-answers (forced_answer)", async () => {
    const prefix = "<think>looking at it</think>";
    const base = { messages: ask("Q"), max_tokens: 3, temperature: 0 };
    const fresh = await chat(base);
    const cont = await chat({
      ...base,
      messages: [...ask("Q"), { role: "assistant", content: prefix }],
      continue_final_message: true,
      add_generation_prompt: false,
    });
    expect(cont.status).toBe(200);
    expect(cont.body.usage.prompt_tokens).toBeGreaterThan(fresh.body.usage.prompt_tokens);
    expect(cont.body.choices[0].forced_answer).toBe(false);
    const forced = await chat({ ...base, think_budget: 1 });
    expect(forced.body.choices[0].forced_answer).toBe(true);
    expect(forced.body.choices[0].message.content).toContain("</think>");
    expect(fresh.body.choices[0].forced_answer).toBe(false);
  });

  it("bad bodies are 400s (422 for an undecodable image) naming the field, in OpenAI's error shape", async () => {
    const field = async (body: unknown, status = 400) => {
      const r = await call("/v1/chat/completions", body);
      expect(r.status).toBe(status);
      expect(r.body.error).toMatchObject({ param: r.body.error.field });
      expect(typeof r.body.error.message).toBe("string");
      expect(r.body.error.type).toBe(status === 404 ? "not_found_error" : "invalid_request_error");
      return r.body.error.field as string;
    };
    expect(await field({})).toBe("messages");
    expect(await field({ messages: [{ role: "user" }], max_tokens: 0 })).toBe("max_tokens");
    expect(await field({ messages: ask("Q"), max_tokens: 65 })).toBe("max_tokens"); // over --max-tokens
    expect(await field({ messages: ask("Q"), stream: true })).toBe("stream");
    expect(await field({ messages: ask("Q"), continue_final_message: true })).toBe("continue_final_message");
    expect(await field({ messages: ask("Q", "https://example.com/x.png") })).toBe(
      "messages.0.content.0.image_url",
    );
    expect(await field({ messages: ask("Q", pathToFileURL(join(dir, "outside.png")).href) })).toBe(
      "messages.0.content.0.image_url",
    );
    expect(await field({ messages: ask("Q", "data:image/png;base64,AAAA") }, 422)).toBe(
      "messages.0.content.0.image_url",
    );
    expect(await field({ messages: ask("Q"), model: "gpt-4o" }, 404)).toBe("model");
    expect(await field("{not json")).toBe("body");
    expect(await field(`{"messages":${"[".repeat(100)}${"]".repeat(100)}}`)).toBe("body");
  });

  it("requires the bearer token on every route but /healthz", async () => {
    expect((await call("/healthz", undefined, null)).status).toBe(200);
    const none = await chat({ messages: ask("Q") }, null);
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ code: "unauthorized", type: "authentication_error" });
    expect((await chat({ messages: ask("Q") }, "wrong")).status).toBe(401);
    expect((await call("/v1/models", undefined, null)).status).toBe(401);
  });

  it("refuses a reachable address without a token, and a missing --model, with exit code 2", async () => {
    const open = await runGlmv(["serve", "model", "--model", join(dir, "ckpt"), "--host", "0.0.0.0"], {
      killAfterMs: 30_000,
    });
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/refusing to bind 0\.0\.0\.0 without --token/);
    const missing = await runGlmv(["serve", "model", "--model", join(dir, "nope"), "--port", "0"], {
      killAfterMs: 30_000,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no config\.json/);
  });
});
