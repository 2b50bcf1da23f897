/**
 * Test fixture: a real OpenAI-compatible HTTP server (node:http) that records every request body and header,
 * counts requests in flight, and answers through a scripted handler.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export type FakeReply = {
  status?: number;
  json?: unknown;
  delayMs?: number;
  headers?: Record<string, string>;
};
/** `body` is the parsed JSON body; `n` counts requests from 0. */
export type FakeHandler = (body: Record<string, unknown>, n: number, path: string) => FakeReply;

export type FakeServer = {
  /** Base URL with the `/v1` prefix. */
  url: string;
  bodies: Record<string, unknown>[];
  headers: IncomingHttpHeaders[];
  paths: string[];
  inFlight: number;
  maxInFlight: number;
  close: () => Promise<void>;
};

/** A chat completion reply with one choice. */
export function completion(content: string, finish = "stop", extra: Record<string, unknown> = {}): unknown {
  return {
    id: "cmpl-1",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content, ...extra }, finish_reason: finish }],
    usage: { prompt_tokens: 10, completion_tokens: 5 },
  };
}

/** The text of the last user message of a request body (string content or its text part). */
export function userTextOf(body: Record<string, unknown>): string {
  const messages = body.messages as { role: string; content: unknown }[];
  const user = messages.find((m) => m.role === "user")!;
  if (typeof user.content === "string") return user.content;
  return (user.content as { type: string; text?: string }[]).find((p) => p.type === "text")!.text!;
}

export async function startFakeOpenAI(handler: FakeHandler): Promise<FakeServer> {
  let n = 0;
  const state: Omit<FakeServer, "url" | "close"> = {
    bodies: [],
    headers: [],
    paths: [],
    inFlight: 0,
    maxInFlight: 0,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      state.bodies.push(body);
      state.headers.push(req.headers);
      state.paths.push(req.url ?? "");
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      const reply = handler(body, n++, req.url ?? "");
      const send = () => {
        state.inFlight--;
        if (res.destroyed) return;
        res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
        res.end(JSON.stringify(reply.json ?? {}));
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const fake = state as FakeServer;
  fake.url = `http://127.0.0.1:${port}/v1`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
