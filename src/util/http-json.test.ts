/**
 * requestJson's caller signal against a real local HTTP server: an abort cancels the attempt in flight and the
 * backoff wait, and no further attempt is sent.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RetryPolicy, requestJson } from "./http-json.ts";

/** How the server answers the next requests: hold them open (never answer) or answer 503. */
let mode: "hold" | "503" = "hold";
let hits = 0;
let onHit: () => void = () => {};
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    req.resume();
    onHit();
    if (mode === "503") res.writeHead(503).end("busy");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/x`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

// Long enough that only the signal can end the request within the test's time limit.
const PATIENT: RetryPolicy = { maxRetries: 3, backoffMs: 60_000, maxBackoffMs: 60_000, timeoutMs: 60_000 };

describe("requestJson with a signal", () => {
  it("an abort during an attempt cancels it, names the reason and sends no retry", async () => {
    mode = "hold";
    hits = 0;
    const controller = new AbortController();
    onHit = () => controller.abort(new Error("item time limit"));
    const sent = requestJson({
      method: "POST",
      url,
      body: { a: 1 },
      retry: PATIENT,
      signal: controller.signal,
    });
    await expect(sent).rejects.toMatchObject({
      code: "engine_error",
      message: `POST ${url} aborted (item time limit)`,
    });
    expect(hits).toBe(1);
  }, 10_000);

  it("an abort during the backoff wait ends it without another attempt", async () => {
    mode = "503";
    hits = 0;
    onHit = () => {};
    const controller = new AbortController();
    const retries: number[] = [];
    const sent = requestJson({
      method: "GET",
      url,
      retry: PATIENT,
      signal: controller.signal,
      onRetry: (attempt) => {
        retries.push(attempt);
        controller.abort(new Error("stop"));
      },
    });
    await expect(sent).rejects.toThrow(`GET ${url} aborted (stop)`);
    expect({ hits, retries }).toEqual({ hits: 1, retries: [1] });
  }, 10_000);

  it("an already aborted signal sends nothing", async () => {
    hits = 0;
    const controller = new AbortController();
    controller.abort();
    await expect(
      requestJson({ method: "GET", url, retry: PATIENT, signal: controller.signal }),
    ).rejects.toThrow(/aborted/);
    expect(hits).toBe(0);
  });
});
