import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isGlmvError } from "../util/errors.ts";
import { bigramBackend } from "./bigram-backend.ts";
import { checkpointRoot } from "./trainer-paths.ts";
import { createTrainerApp, type TrainerApp } from "./trainer-server.ts";

const dirs: string[] = [];
const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `glmv-ckpt-${name}-`));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (isGlmvError(e) && e.code === "bad_input") return e.message;
    throw e;
  }
  throw new Error("not refused");
};

describe("checkpointRoot", () => {
  it("resolves relative names below the root (created on first use) and refuses every way out", () => {
    const base = tmp("root");
    const outside = tmp("outside");
    const root = join(base, "ckpt");
    const ckpt = checkpointRoot(root);
    expect(existsSync(root)).toBe(false);
    expect(ckpt.resolve("run-1/sft", "path")).toBe(join(root, "run-1", "sft"));
    expect(existsSync(root)).toBe(true);
    expect(ckpt.resolve("./a//b/", "path")).toBe(join(root, "a", "b"));
    expect(refusal(() => ckpt.resolve(outside, "path"))).toMatch(/is absolute.*\(at path\)/);
    expect(refusal(() => ckpt.resolve("C:\\windows", "path"))).toMatch(/is absolute/);
    for (const p of ["..", "../x", "a/../../x", "a/..", "a\\..\\..\\x"])
      expect(refusal(() => ckpt.resolve(p, "model_path"))).toMatch(/contains '\.\.'.*\(at model_path\)/);
    for (const p of ["", ".", "./"]) expect(() => ckpt.resolve(p, "path")).toThrow(/checkpoint path/);
    expect(refusal(() => ckpt.resolve("a\0b", "path"))).toMatch(/NUL/);
    expect(refusal(() => ckpt.resolve("x".repeat(2000), "path"))).toMatch(/longer than/);
  });

  it("refuses a path through a symlink that leads out of the root (dangling ones too); one that stays in is fine", () => {
    const root = tmp("root");
    const outside = tmp("outside");
    symlinkSync(outside, join(root, "escape"));
    symlinkSync(join(outside, "missing"), join(root, "dangling"));
    mkdirSync(join(root, "real"));
    symlinkSync(join(root, "real"), join(root, "inside"));
    const ckpt = checkpointRoot(root);
    expect(refusal(() => ckpt.resolve("escape", "path"))).toMatch(/symlink/);
    expect(refusal(() => ckpt.resolve("escape/deeper/ckpt", "path"))).toMatch(/symlink/);
    expect(refusal(() => ckpt.resolve("dangling/ckpt", "path"))).toMatch(/symlink/);
    expect(ckpt.resolve("inside/ckpt", "path")).toBe(join(root, "real", "ckpt"));
  });
});

describe("trainer server: checkpoint paths stay under the root", () => {
  let app: TrainerApp;
  afterEach(async () => {
    await app?.close();
  });

  async function setUp() {
    const root = tmp("root");
    const outside = tmp("outside");
    symlinkSync(outside, join(root, "escape"));
    app = createTrainerApp({
      backend: bigramBackend({ vocabSize: 12, imageTokenId: 11, baseModel: "b" }),
      pollWaitMs: 5,
      checkpointRoot: root,
    });
    const post = (route: string, body: unknown) => app.request("POST", `/api/v1/${route}`, body);
    const session = (await post("create_session", {})).body as { session_id: string };
    const created = (await post("create_model", { session_id: session.session_id, base_model: "b" }))
      .body as { model_id: string };
    return { root, outside, post, model_id: created.model_id };
  }

  it("answers 400 to absolute, '..' and escaping-symlink paths on every checkpoint route, and writes nothing outside", async () => {
    const { root, outside, post, model_id } = await setUp();
    const bad = [join(outside, "x"), "../x", "a/../../x", "escape/x"];
    for (const path of bad) {
      for (const route of ["save_weights", "load_weights", "save_weights_for_sampler"]) {
        const reply = await post(route, { model_id, path });
        expect(reply.status, `${route} ${path}`).toBe(400);
        expect(JSON.stringify(reply.body)).toMatch(/checkpoint path/);
      }
      const session = await post("create_sampling_session", { session_id: "s", model_path: path });
      expect(session.status).toBe(400);
      const sample = await post("asample", {
        prompt: { chunks: [{ type: "encoded_text", tokens: [1] }] },
        sampling_params: { max_tokens: 1 },
        model_path: path,
      });
      expect(sample.status).toBe(400);
    }
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(root)).toEqual(["escape"]);
  });

  it("publishes sampler weights at a relative path: model_path finds them by any spelling of that path", async () => {
    const { root, post, model_id } = await setUp();
    const saved = (await post("save_weights_for_sampler", { model_id, path: "run/s1" })).body as {
      request_id: string;
    };
    for (;;) {
      const r = (await post("retrieve_future", { request_id: saved.request_id })).body as { type?: string };
      if (r.type !== "try_again") {
        expect(r).toMatchObject({ type: "save_weights_for_sampler", path: "run/s1" });
        break;
      }
    }
    expect(existsSync(join(root, "run", "s1"))).toBe(true);
    const session = await post("create_sampling_session", { session_id: "s", model_path: "./run//s1" });
    expect(session.status).toBe(200);
    const sample = await post("asample", {
      prompt: { chunks: [{ type: "encoded_text", tokens: [1] }] },
      sampling_params: { max_tokens: 1 },
      model_path: "run/s1",
    });
    expect(sample.status).toBe(200);
  });
});
