/**
 * `glmv serve trainer` under careless and hostile use, across processes (the real CLI in a child process): the
 * token (checked before the body is read; `bearer` in any case, or `X-API-Key`), the bind rule, checkpoint paths
 * confined to `--checkpoint-root`, the body limit, trickled bodies, and malformed JSON, after which the server
 * still answers good requests.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GLMV_BIN, type SpawnedServer, spawnGlmvServer } from "./helpers/spawn-glmv.ts";

const TOKEN = "s3cret-token";
const BODY_LIMIT = 65_536;

/** What came back on a raw socket: the status (0 when none), the body text, and whether the server hung up. */
type RawReply = { status: number; text: string; closed: boolean };

/**
 * Send `head` (request line and headers) and `body` on a raw socket; with `trickle`, then one more byte every
 * 50 ms. Resolves when the server closes the connection, or after `waitMs` with what arrived so far.
 */
function rawRequest(
  port: number,
  head: string,
  body = "",
  opts: { trickle?: boolean; waitMs?: number } = {},
): Promise<RawReply> {
  return new Promise((resolve) => {
    let received = "";
    let ticker: NodeJS.Timeout | undefined;
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`${head}\r\n\r\n${body}`);
      if (opts.trickle) ticker = setInterval(() => socket.writable && socket.write(" "), 50);
    });
    const done = (closed: boolean) => {
      clearInterval(ticker);
      clearTimeout(giveUp);
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
      resolve({ status, text: received.slice(received.indexOf("\r\n\r\n") + 4), closed });
    };
    const giveUp = setTimeout(() => done(false), opts.waitMs ?? 5000);
    socket.on("data", (d) => {
      received += d.toString("latin1");
    });
    socket.on("close", () => done(true));
    socket.on("error", () => {});
  });
}

/** `glmv serve trainer ...` until it exits or prints its address; stderr is kept. */
function startTrainer(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [GLMV_BIN, "serve", "trainer", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += String(d);
  });
  return new Promise<{ code: number | null; stderr: string; line?: string; kill: () => void }>((resolve) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (/listening on/.test(line)) resolve({ code: null, stderr, line, kill: () => child.kill("SIGTERM") });
    });
    child.once("exit", (code) => resolve({ code, stderr, kill: () => {} }));
  });
}

const envWithout = (name: string) =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== name));

describe("glmv serve trainer: hostile clients", () => {
  let server: SpawnedServer;
  let base = "";
  let root = "";
  let outside = "";
  let port = 0;
  const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const post = (route: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${server.url}/api/v1/${route}`, { method: "POST", headers, body: JSON.stringify(body) });
  /** The result of a future, once it has one. */
  const result = async (request_id: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const r = (await (await post("retrieve_future", { request_id })).json()) as Record<string, unknown>;
      if (r.type !== "try_again") return r;
    }
  };
  /** Post a call that answers a future, and wait for its result. */
  const settled = async (route: string, body: unknown) =>
    result(((await (await post(route, body)).json()) as { request_id: string }).request_id);
  const newModel = async () => {
    const { session_id } = (await (await post("create_session", {})).json()) as { session_id: string };
    const res = await post("create_model", { session_id, base_model: "glmv-bigram" });
    const created = (await res.json()) as { model_id: string; request_id: string };
    await result(created.request_id);
    return created.model_id;
  };

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "glmv-trainer-hostile-"));
    root = join(base, "root");
    outside = join(base, "outside");
    mkdirSync(root);
    mkdirSync(outside);
    symlinkSync(outside, join(root, "escape"));
    server = await spawnGlmvServer(
      ["serve", "trainer", "--preset", "bigram", "--port", "0", "--poll-wait-ms", "5"].concat(
        ["--token", TOKEN, "--checkpoint-root", root],
        ["--body-limit", String(BODY_LIMIT), "--request-timeout-ms", "500"],
      ),
      "ignore",
    );
    port = Number(new URL(server.url).port);
  }, 60_000);
  afterAll(() => {
    server?.child.kill("SIGTERM");
    rmSync(base, { recursive: true, force: true });
  });

  it("needs the token on every route but healthz: Bearer in any case or X-API-Key; a 401 comes before the body", async () => {
    const caps = (headers: Record<string, string>) =>
      fetch(`${server.url}/api/v1/get_server_capabilities`, { headers }).then((r) => r.status);
    expect(await caps({})).toBe(401);
    expect(await caps({ authorization: "Bearer wrong-token!" })).toBe(401);
    expect(await caps({ authorization: `Basic ${TOKEN}` })).toBe(401);
    expect(await caps({ "x-api-key": "nope" })).toBe(401);
    expect(await caps({ authorization: `bearer ${TOKEN}` })).toBe(200);
    expect(await caps({ authorization: `BEARER ${TOKEN}` })).toBe(200);
    expect(await caps({ "x-api-key": TOKEN })).toBe(200);
    const refused = await post("create_session", {}, { "content-type": "application/json" });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: "unauthorized" });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/v1/healthz`)).status).toBe(200);
    // a 10 MB body is announced and never sent: the refusal cannot have waited for it
    const early = await rawRequest(
      port,
      "POST /api/v1/create_session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000",
      "{",
    );
    expect(early).toMatchObject({ status: 401, closed: true });
  });

  it("refuses absolute, '..' and symlink checkpoint paths with 400 and writes or reads nothing outside the root", async () => {
    const model_id = await newModel();
    writeFileSync(join(outside, "bigram.json"), "{}"); // something to try to read
    const bad = [
      outside,
      join(base, "elsewhere"),
      "../outside/x",
      "a/../../outside",
      "escape",
      "escape/ckpt",
    ];
    for (const path of bad) {
      for (const route of ["save_weights", "load_weights", "save_weights_for_sampler"]) {
        const res = await post(route, { model_id, path });
        expect(res.status, `${route} ${path}`).toBe(400);
        expect(((await res.json()) as { detail: string }).detail).toMatch(/checkpoint path/);
      }
      const session = await post("create_sampling_session", { session_id: "s", model_path: path });
      expect(session.status).toBe(400);
    }
    expect(readdirSync(outside)).toEqual(["bigram.json"]);
    expect(readdirSync(base).sort()).toEqual(["outside", "root"]);
    // a relative path is written under the root
    expect(await settled("save_weights", { model_id, path: "run-1/sft" })).toMatchObject({
      type: "save_weights",
      path: "run-1/sft",
    });
    expect(existsSync(join(root, "run-1", "sft", "bigram.json"))).toBe(true);
    expect(await settled("load_weights", { model_id, path: "run-1/sft" })).toMatchObject({
      type: "load_weights",
    });
  });

  it("answers 413 to a body over --body-limit (announced or streamed), 400 to malformed or too deeply nested JSON", async () => {
    const head = `POST /api/v1/create_session HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}`;
    const announced = await rawRequest(port, `${head}\r\nContent-Length: ${BODY_LIMIT * 1000}`, "{");
    expect(announced).toMatchObject({ status: 413, closed: true });
    expect(announced.text).toContain('"code":"body_too_large"');
    const chunk = "x".repeat(BODY_LIMIT + 100);
    const streamed = await rawRequest(
      port,
      `${head}\r\nTransfer-Encoding: chunked`,
      `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
    );
    expect(streamed).toMatchObject({ status: 413, closed: true });
    for (const garbage of ["{bad", '{"session_id":', "\u0000\u0001", "[".repeat(10_000)]) {
      const res = await fetch(`${server.url}/api/v1/create_session`, {
        method: "POST",
        headers: auth,
        body: garbage,
      });
      expect(res.status, garbage.slice(0, 10)).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/not JSON|nests deeper/);
    }
    const deep = await post("create_session", JSON.parse(`{"tags":${"[".repeat(100)}${"]".repeat(100)}}`));
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { detail: string }).detail).toMatch(/nests deeper than 64 levels/);
  });

  it("times out a trickled body (408, connection closed), then still answers a good request", async () => {
    const slow = await rawRequest(
      port,
      `POST /api/v1/create_session HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000`,
      "{",
      { trickle: true, waitMs: 8000 },
    );
    expect(slow).toMatchObject({ status: 408, closed: true });
    const res = await post("create_session", {});
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ type: "create_session" });
  }, 15_000);
});

describe("glmv serve trainer: the bind rule", () => {
  it("refuses a non-loopback host without a token, and names the wildcard it bound with one", async () => {
    const env = envWithout("GLMV_SERVE_TOKEN");
    const refused = await startTrainer(["--preset", "bigram", "--host", "0.0.0.0", "--port", "0"], env);
    refused.kill();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing to bind 0\.0\.0\.0 without --token/);

    const open = await startTrainer(
      ["--preset", "bigram", "--host", "0.0.0.0", "--port", "0", "--checkpoint-root", tmpdir()],
      { ...env, GLMV_SERVE_TOKEN: TOKEN },
    );
    try {
      expect(open.line).toMatch(/listening on http:\/\/0\.0\.0\.0:\d+$/);
      const port = Number(/:(\d+)$/.exec(open.line!)![1]);
      const caps = await fetch(`http://127.0.0.1:${port}/api/v1/get_server_capabilities`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(caps.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/get_server_capabilities`)).status).toBe(401);
    } finally {
      open.kill();
    }
  }, 30_000);
});
