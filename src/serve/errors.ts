/**
 * The one table from `GlmvError` codes to HTTP statuses (style.md §5: only `src/serve/` maps codes to statuses),
 * and the JSON error body every glmv service answers with: `{ error: { code, message, field? } }`.
 */
import { type GlmvErrorCode, isGlmvError } from "../util/errors.ts";

/**
 * HTTP status per error code, for every glmv server (reward, curriculum, trainer). Input problems are the client's
 * (4xx); everything else is the server's (5xx). The trainer's futures call a 4xx code's failure category "user".
 */
export const HTTP_STATUS: Record<GlmvErrorCode, number> = {
  bad_input: 400,
  bad_argument: 400,
  /** A well-formed request whose image cannot be decoded: unprocessable content, as schema errors are. */
  image_invalid: 422,
  /** A checkpoint the client named does not fit the model it is loaded into (the trainer's load_weights). */
  checkpoint_mismatch: 400,
  not_found: 404,
  verify_timeout: 504,
  worker_crashed: 503,
  engine_error: 502,
  /** The server's own config (model config.json, backend): request fields are bad_input, never bad_config. */
  bad_config: 500,
  io_error: 500,
  checkpoint_corrupt: 500,
  unsupported_dtype: 500,
  tokenizer_error: 500,
};

/** Codes that only the HTTP layer produces (no `GlmvError` behind them). */
export type HttpOnlyCode =
  | "unauthorized"
  | "body_too_large"
  | "too_many_items"
  | "internal"
  | "unavailable"
  | "request_timeout"
  | "headers_too_large";

/** The JSON body of every error answer. `field` names the offending request field when there is one. */
export type ErrorBody = { error: { code: GlmvErrorCode | HttpOnlyCode; message: string; field?: string } };

/** An error answer: status plus body. */
export type ErrorReply = { status: number; body: ErrorBody };

/**
 * Turn anything thrown inside a route into an error answer. A `GlmvError` keeps its code and `where` (as
 * `field`); a Fastify error with a 4xx `statusCode` (bad JSON, body too large, wrong content type) is the
 * client's; anything else is a 500 whose message hides internals.
 * @example
 * errorReply(new GlmvError("bad_input", "expected a string", { where: "labels.0" }))
 * // { status: 400, body: { error: { code: "bad_input", message: "expected a string (at labels.0)", field: "labels.0" } } }
 */
export function errorReply(e: unknown): ErrorReply {
  if (isGlmvError(e)) {
    const error: ErrorBody["error"] = { code: e.code, message: e.message };
    if (e.where !== undefined) error.field = e.where;
    return { status: HTTP_STATUS[e.code], body: { error } };
  }
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const fastifyCode = (e as { code?: unknown }).code;
    const code: ErrorBody["error"]["code"] =
      status === 413 || fastifyCode === "FST_ERR_CTP_BODY_TOO_LARGE" ? "body_too_large" : "bad_input";
    const message = e instanceof Error ? e.message : "bad request";
    return { status, body: { error: { code, message, field: "body" } } };
  }
  return { status: 500, body: { error: { code: "internal", message: "internal error" } } };
}

/** Build an error answer directly (auth, limits). */
export const httpError = (
  status: number,
  code: ErrorBody["error"]["code"],
  message: string,
  field?: string,
): ErrorReply => ({
  status,
  body: { error: field === undefined ? { code, message } : { code, message, field } },
});

/**
 * The raw HTTP answer to a request Node's parser gave up on before any route saw it (the `clientError` event): a
 * request not received in time (408), oversized headers (431), or bytes that are not HTTP (400). Same JSON body as
 * every other error.
 * @example clientErrorResponse({ code: "ERR_HTTP_REQUEST_TIMEOUT" }, 30000) // "HTTP/1.1 408 Request Timeout\r\n…"
 */
export function clientErrorResponse(err: { code?: string | undefined }, requestTimeoutMs: number): string {
  const e =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? httpError(408, "request_timeout", `request not received within ${requestTimeoutMs} ms`)
      : err.code === "HPE_HEADER_OVERFLOW"
        ? httpError(431, "headers_too_large", "request headers too large")
        : httpError(400, "bad_input", "malformed HTTP request");
  const body = JSON.stringify(e.body);
  const reason =
    { 408: "Request Timeout", 431: "Request Header Fields Too Large" }[e.status] ?? "Bad Request";
  return `HTTP/1.1 ${e.status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`;
}
