/**
 * The trainer server's HTTP listener (`node:http` over the in-process router `app.request`), with the rules every
 * glmv service follows: loopback only unless a token is set (`assertSafeBind`); the token checked in constant time
 * before any of the body is read (`Authorization: Bearer` or Tinker's `X-API-Key`, whichever the client sends;
 * `/api/v1/healthz` stays open); a body limit (413, refused from `Content-Length` or as soon as it is passed); a
 * deadline for the whole body to arrive (408, so a trickled body cannot hold a socket forever); malformed JSON, or
 * JSON nested deeper than 64 levels, is a 400. Each refusal closes the connection, so the rest of a refused body is never waited for.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { JsonReply } from "../util/http-json.ts";
import { assertSafeBind, bearerAuthorized } from "./http.ts";
import { assertJsonDepth, MAX_JSON_DEPTH } from "./json-depth.ts";
import { listenFailure, listeningUrl } from "./listen.ts";

export type TrainerHttpOptions = {
  /** Required on every route but `/api/v1/healthz`; none = open (only allowed on loopback). */
  token?: string | undefined;
  /** Largest request body in bytes (default 64 MiB: image chunks travel base64). */
  bodyLimit?: number | undefined;
  /** How long a request's body may take to arrive, in ms (default 30 s). */
  requestTimeoutMs?: number | undefined;
};

export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The routes a client may call without the token (liveness). */
const OPEN_PATHS = new Set(["/api/v1/healthz"]);

type Route = (method: string, path: string, body: unknown) => Promise<JsonReply>;

/** A refusal decided by the listener itself (before the router sees the request). */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Listen on `host:port`; `onRefused(status)` is told of each request the listener refused itself (for metrics).
 * The URL is the address actually bound (`http://0.0.0.0:P` for the wildcard: reachable on every interface).
 */
export async function listenTrainer(
  route: Route,
  port: number,
  host: string,
  opts: TrainerHttpOptions,
  onRefused: (status: number, seconds: number) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  // an empty token is no token (as `assertSafeBind` counts it): nothing could ever match it
  const token = opts.token || undefined;
  assertSafeBind(host, token);
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = createServer(
    {
      // Node's own checks cover headers that never finish; the body deadline below answers before they do
      headersTimeout: timeoutMs,
      requestTimeout: timeoutMs + 1000,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(timeoutMs / 2))),
    },
    async (req, res) => {
      const started = performance.now();
      const path = new URL(req.url ?? "/", "http://x").pathname;
      let reply: JsonReply;
      try {
        if (token !== undefined && !OPEN_PATHS.has(path) && !authorized(req, token))
          throw new Refusal(
            401,
            "unauthorized",
            "missing or wrong token (Authorization: Bearer, or X-API-Key)",
          );
        const text = (await readBody(req, bodyLimit, started + timeoutMs)).toString("utf8");
        // a deep nest of brackets would hold the event loop for seconds inside JSON.parse; the scan does not
        assertJsonDepth(text, MAX_JSON_DEPTH, "body");
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch (e) {
          throw new Refusal(400, "bad_input", `request body is not JSON: ${(e as Error).message}`);
        }
        reply = await route(req.method ?? "GET", path, body);
      } catch (e) {
        const r = e instanceof Refusal ? e : new Refusal(400, "bad_input", (e as Error).message);
        onRefused(r.status, (performance.now() - started) / 1000);
        send(res, { status: r.status, body: { detail: r.message, code: r.code } }, true);
        return;
      }
      send(res, reply, false);
    },
  );
  await new Promise<void>((resolve, reject) => {
    const failed = (e: unknown) => reject(listenFailure(e, host, port) ?? e);
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeIdleConnections();
    });
  return { url: listeningUrl(server), close };
}

/** The token in `Authorization: Bearer …` (scheme case-insensitive) or `X-API-Key`, compared in constant time. */
function authorized(req: IncomingMessage, token: string): boolean {
  const apiKey = req.headers["x-api-key"];
  const viaKey = typeof apiKey === "string" && bearerAuthorized(`Bearer ${apiKey}`, token);
  return bearerAuthorized(req.headers.authorization, token) || viaKey;
}

/** Write a reply; `hangUp` closes the connection after it (a refused request may still be sending its body). */
function send(res: ServerResponse, reply: JsonReply, hangUp: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const text = typeof reply.body === "string";
  res.writeHead(reply.status, {
    "content-type": text ? "text/plain; version=0.0.4" : "application/json",
    ...(hangUp ? { connection: "close" } : {}),
  });
  res.end(text ? reply.body : JSON.stringify(reply.body));
}

/** The request body, refused past `limit` bytes (413) or when it has not all arrived by `deadline` (408). */
function readBody(req: IncomingMessage, limit: number, deadline: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(tooLarge(limit, `Content-Length is ${declared}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Refusal | undefined) => {
      clearTimeout(timer);
      req.off("data", onData).off("end", onEnd).off("error", onClose).off("close", onClose);
      if (error) {
        // the rest is read and dropped until the connection closes: a reset could lose the refusal on its way out
        req.resume();
        reject(error);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(tooLarge(limit, `more than ${limit} bytes arrived`));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onClose = () => finish(new Refusal(400, "bad_input", "the request body ended early"));
    const timer = setTimeout(
      () =>
        finish(
          new Refusal(
            408,
            "request_timeout",
            "the request body did not arrive in time (--request-timeout-ms)",
          ),
        ),
      Math.max(0, deadline - performance.now()),
    );
    req.on("data", onData).on("end", onEnd).on("error", onClose).on("close", onClose);
  });
}

const tooLarge = (limit: number, what: string) =>
  new Refusal(413, "body_too_large", `request body over the limit of ${limit} bytes (${what}; --body-limit)`);
