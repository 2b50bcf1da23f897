/**
 * `glmv reward clean` end to end: the real CLI in a child process, stdin → stdout, JSONL and plain text.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanInput } from "../../src/cli/reward-clean.ts";
import { GLMV_BIN, type GlmvRun, runGlmv } from "../helpers/spawn-glmv.ts";

/** Run `glmv reward clean ...args` with `stdin` piped in. */
function clean(args: readonly string[], stdin: string): Promise<GlmvRun> {
  const child = spawn(process.execPath, [GLMV_BIN, "reward", "clean", ...args], { stdio: "pipe" });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(stdin);
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve) => {
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const B = "<|begin_of_box|>";
const E = "<|end_of_box|>";

describe("glmv reward clean", () => {
  const dir = mkdtempSync(join(tmpdir(), "glmv-clean-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("plain text on stdin: the one response, without reasoning, box tokens or stop token", async () => {
    const r = await clean([], `<think>Count: 3 + 4.</think>\nThere are ${B}7${E} apples.<|user|>\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("There are 7 apples.\n");
  });

  it("JSONL on stdin: each line's response cleaned, its other fields kept, blank lines dropped", async () => {
    const lines = [
      { id: 1, response: `<think>t</think><answer>${B}B${E}</answer>`, model: "glm-4.1v" },
      { id: 2, response: `<think>t</think>The dog is at ${B}[[10,20,300,400]]${E}.`, model: "glm-4.6v" },
      { id: 3, response: "<think>still thinking", model: "glm-4.6v" },
    ];
    const r = await clean([], `${lines.map((l) => JSON.stringify(l)).join("\n")}\n\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      '{"id":1,"response":"B","model":"glm-4.1v"}',
      '{"id":2,"response":"The dog is at [[10,20,300,400]].","model":"glm-4.6v"}',
      '{"id":3,"response":"","model":"glm-4.6v"}',
      "",
    ]);
  });

  it("--in FILE and --field NAME", async () => {
    const path = join(dir, "chat.jsonl");
    writeFileSync(path, `${JSON.stringify({ q: "colour?", content: `<think>t</think>${B}blue${E}` })}\n`);
    const r = await runGlmv(["reward", "clean", "--in", path, "--field", "content"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('{"q":"colour?","content":"blue"}\n');
  });

  it("a JSONL line without the field, or not an object, is exit 2 naming the line, and nothing is written", async () => {
    const missing = await clean([], `{"response":"a"}\n{"text":"b"}\n`);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/glmv reward clean: line 2: field 'response' is missing/);
    const notObject = await clean(["--field", "response"], "just text\n");
    expect(notObject.code).toBe(2);
    expect(notObject.stderr).toMatch(/line 1: not a JSON object/);
  });

  it("--help exits 0; an unknown flag or an unreadable --in exits 2", async () => {
    expect((await runGlmv(["reward", "clean", "--help"])).stdout).toMatch(/usage: glmv reward clean/);
    const bad = await runGlmv(["reward", "clean", "--frob"]);
    expect(bad.code).toBe(2);
    const missing = await runGlmv(["reward", "clean", "--in", join(dir, "nope.jsonl")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read --in .*nope\.jsonl/);
  });
});

describe("cleanInput", () => {
  it("plain text is one response even when it spans lines; a byte-order mark is not text", () => {
    expect(cleanInput(`\uFEFF<think>a\nb</think>line one\n${B}2${E}\n`, "response", false)).toEqual({
      output: "line one\n2\n",
    });
  });

  it("a first line that is JSON but not an object is plain text; an empty input stays empty", () => {
    expect(cleanInput("[1, 2]\n", "response", false)).toEqual({ output: "[1, 2]\n" });
    expect(cleanInput("", "response", true)).toEqual({ output: "" });
  });
});
