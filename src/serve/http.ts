/**
 * What glmv's HTTP services share: a Fastify app with JSON errors from one table (`errors.ts`), an optional bearer
 * token, request metrics, and the bind rule (loopback only, unless a token is set).
 */
import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { GlmvError } from "../util/errors.ts";
import { errorReply, httpError } from "./errors.ts";
import { observeRequest, type ServiceMetrics } from "./metrics.ts";

export type BaseAppOptions = {
  /** Bearer token every route but `/healthz` requires; none = open (only allowed on loopback). */
  token?: string | undefined;
  /** Largest request body in bytes. */
  bodyLimit: number;
  metrics: ServiceMetrics;
};

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
  const app = Fastify({
    bodyLimit: opts.bodyLimit,
    logger: false,
    // Closing stops new requests at once (503) and drops idle keep-alive sockets; in-flight requests finish.
    return503OnClosing: true,
    forceCloseConnections: "idle",
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
