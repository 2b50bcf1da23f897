/**
 * Typed errors for glmv. Expected failures (an unparseable answer, a timeout) are values, not throws;
 * a `GlmvError` is for input that cannot be processed at all (a bad config, a corrupt checkpoint).
 * Only `src/serve/` maps codes to HTTP statuses.
 */
export type GlmvErrorCode =
  | "bad_config"
  | "bad_input"
  | "bad_argument"
  | "io_error"
  | "verify_timeout"
  | "worker_crashed"
  | "checkpoint_corrupt"
  | "checkpoint_mismatch"
  | "unsupported_dtype"
  | "image_invalid"
  | "tokenizer_error"
  | "engine_error"
  | "not_found";

export class GlmvError extends Error {
  readonly code: GlmvErrorCode;
  /** Where the problem is: a file path, a field name, a line number, a tensor key. */
  readonly where: string | undefined;

  constructor(code: GlmvErrorCode, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(options.where ? `${message} (at ${options.where})` : message, { cause: options.cause });
    this.name = "GlmvError";
    this.code = code;
    this.where = options.where;
  }
}

export const isGlmvError = (e: unknown): e is GlmvError => e instanceof GlmvError;
