/**
 * What glmv's HTTP services share: a Fastify app with JSON errors from one table (`errors.ts`), an optional bearer
 * token, request metrics, a deadline for receiving each request, a nesting limit on JSON bodies, and the bind rule
 * (loopback only, unless a token is set).
 */
import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { GlmvError } from "../util/errors.ts";
import { clientErrorResponse, errorReply, httpError } from "./errors.ts";
import { assertJsonDepth, MAX_JSON_DEPTH } from "./json-depth.ts";
import { observeRequest, type ServiceMetrics } from "./metrics.ts";

export type BaseAppOptions = {
  /** Bearer token every route but `/healthz` requires; none = open (only allowed on loopback). */
  token?: string | undefined;
  /** Largest request body in bytes. */
  bodyLimit: number;
  metrics: ServiceMetrics;
  /** Most milliseconds to receive a whole request, headers and body; a slower client gets 408. Default 30,000. */
  requestTimeoutMs?: number | undefined;
  /** Deepest nesting a JSON body may have; deeper bodies are refused before parsing. Default 64. */
  maxJsonDepth?: number | undefined;
};

/** Default deadline for receiving one request (a 16 MiB body needs ~4.5 Mbit/s to arrive in time). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** True for hosts that only this machine can reach. */
export const isLoopback = (host: string): boolean => LOOPBACK.has(host) || /^127\./.test(host);

/**
 * Refuse to serve on a reachable address without a token (anyone on the network could score or poison state).
 * @example assertSafeBind("0.0.0.0", undefined) // throws GlmvError bad_argument
 */
export function assertSafeBind(host: string, token: string | undefined): void {
  if (!isLoopback(host) && (token === undefined || token.length === 0)) {
    throw new GlmvError("bad_argument", `refusing to bind ${host} without --token (loopback needs none)`, {
      where: "--host",
    });
  }
}

/**
 * Constant-time check of an `Authorization` header against `Bearer <token>`; the scheme is case-insensitive
 * (RFC 7235), the token is not.
 * @example bearerAuthorized("bearer s3cret", "s3cret") // true
 */
export function bearerAuthorized(header: string | undefined, token: string): boolean {
  const match = /^bearer +(.*)$/i.exec(header ?? "");
  const want = Buffer.from(token);
  const got = Buffer.from(match?.[1] ?? "");
  // compare equal-length buffers even on a length mismatch, so timing does not reveal the token's length early
  const same = timingSafeEqual(got.length === want.length ? got : want, want);
  return match !== null && got.length === want.length && same;
}

/**
 * A Fastify app with glmv's error answers, auth and request metrics installed; routes are added by the caller.
 * @example
 * const app = createBaseApp({ bodyLimit: 1 << 20, metrics: createMetrics("glmv_x") });
 * app.get("/healthz", async () => ({ ok: true }));
 */
export function createBaseApp(opts: BaseAppOptions): FastifyInstance {
  const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    bodyLimit: opts.bodyLimit,
    logger: false,
    // Closing stops new requests at once (503) and drops idle keep-alive sockets; in-flight requests finish.
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // Fastify's default is no limit: a client trickling a body a byte at a time would hold its socket forever.
    requestTimeout,
    http: {
      requestTimeout,
      headersTimeout: Math.min(60_000, requestTimeout),
      // Node checks the deadlines on this period (default 30 s): check often enough that short limits hold.
      connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(requestTimeout / 4))),
    },
    clientErrorHandler: (err, socket) => {
      if ((err as { code?: string }).code === "ECONNRESET" || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorResponse(err as { code?: string }, requestTimeout));
      socket.destroy(err);
    },
  });
  // Fastify's own JSON parser (with its prototype-poisoning check), behind a depth scan: parsing eight million
  // nested arrays blocks the event loop for seconds, the scan does not.
  const maxDepth = opts.maxJsonDepth ?? MAX_JSON_DEPTH;
  const parseJson = app.getDefaultJsonParser("error", "ignore");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    try {
      assertJsonDepth(body as string, maxDepth, "body");
    } catch (e) {
      done(e as Error, undefined);
      return;
    }
    parseJson(req, body as string, done);
  });
  const started = new WeakMap<object, number>();
  const metrics = opts.metrics;
  const token = opts.token;

  app.addHook("onRequest", async (req, reply) => {
    started.set(req, performance.now());
    metrics.inFlight++;
    if (
      token !== undefined &&
      req.url !== "/healthz" &&
      !bearerAuthorized(req.headers.authorization, token)
    ) {
      const e = httpError(401, "unauthorized", "missing or wrong bearer token", "authorization");
      return reply.code(e.status).send(e.body);
    }
  });
  app.addHook("onResponse", async (req, reply) => {
    metrics.inFlight--;
    const t0 = started.get(req) ?? performance.now();
    const route = req.routeOptions.url ?? "unmatched";
    observeRequest(metrics, route, reply.statusCode, (performance.now() - t0) / 1000);
  });
  // A keep-alive client would hold the socket open (and `close()` waiting) long after the last answer: once closing,
  // every answer tells the client to hang up.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_req, reply, payload) => {
    if (closing) reply.header("connection", "close");
    return payload;
  });
  app.setErrorHandler(async (err, _req, reply) => {
    const e = errorReply(err);
    return reply.code(e.status).send(e.body);
  });
  app.setNotFoundHandler(async (req, reply) => {
    const e = httpError(404, "not_found", `no route ${req.method} ${req.url.slice(0, 200)}`, "url");
    return reply.code(e.status).send(e.body);
  });
  return app;
}
