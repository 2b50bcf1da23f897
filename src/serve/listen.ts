/**
 * Start-up helpers every glmv server shares: the URL a listening server is actually bound to, and one clear
 * sentence for the everyday reasons `listen` fails (port taken, port privileged, address not on this machine),
 * worded as `src/cli/failure.ts` words them for the commands that let such errors reach `main`.
 */
import type { Server } from "node:net";
import { GlmvError } from "../util/errors.ts";

/**
 * The URL of the address `server` is bound to: `http://0.0.0.0:8000` for a wildcard bind (Fastify's `listen`
 * answers with one interface's address instead), brackets around IPv6 hosts.
 * @example listeningUrl(app.server) // "http://127.0.0.1:8000"
 */
export function listeningUrl(server: Server): string {
  const bound = server.address();
  if (bound === null || typeof bound === "string") return String(bound);
  const host = bound.address.includes(":") ? `[${bound.address}]` : bound.address;
  return `http://${host}:${bound.port}`;
}

/**
 * A `listen` failure the user can fix, as a `GlmvError` (`io_error`) with one sentence naming the port, the host
 * and what to do; undefined for other failures (those keep their stack).
 * @example listenFailure({ code: "EADDRINUSE" }, "127.0.0.1", 8000)?.message
 * // "port 8000 on 127.0.0.1 is already in use (EADDRINUSE: pick another --port, or 0 for any free one)"
 */
export function listenFailure(e: unknown, host: string, port: number): GlmvError | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  const message =
    code === "EADDRINUSE"
      ? `port ${port} on ${host} is already in use (EADDRINUSE: pick another --port, or 0 for any free one)`
      : code === "EACCES" || code === "EPERM"
        ? `port ${port} on ${host} needs privileges (${code}: pick a --port of 1024 or above)`
        : code === "EADDRNOTAVAIL"
          ? `cannot bind ${host}: no such address on this machine (EADDRNOTAVAIL; check --host)`
          : code === "ENOTFOUND" || code === "EAI_AGAIN"
            ? `cannot resolve --host '${host}' (${code})`
            : undefined;
  return message === undefined ? undefined : new GlmvError("io_error", message, { cause: e });
}
