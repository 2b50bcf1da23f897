import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { listenFailure } from "../serve/listen.ts";
import { GlmvError } from "../util/errors.ts";
import { describeFailure, EXIT_FAILED, EXIT_USAGE, oneLine } from "./failure.ts";
import { main } from "./main.ts";
import { packageVersion } from "./version.ts";

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("glmv help and version", () => {
  it("--version and -V print package.json's version", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(packageVersion()).toBe(pkg.version);
    expect(await main(["--version"])).toBe(0);
    expect(await main(["-V"])).toBe(0);
    expect(out).toEqual([pkg.version, pkg.version]);
  });

  it("glmv reward --help / glmv serve --help list the group's commands with their summaries", async () => {
    expect(await main(["reward", "--help"])).toBe(0);
    expect(out.join("\n")).toMatch(/glmv reward score\s+score JSONL responses/);
    out = [];
    expect(await main(["serve", "-h"])).toBe(0);
    const text = out.join("\n");
    for (const name of ["reward", "curriculum", "trainer"])
      expect(text).toMatch(new RegExp(`glmv serve ${name}\\s+\\S`));
    expect(err).toEqual([]);
  });

  it("a bare group or an unknown subcommand prints the group's commands and exits 2", async () => {
    expect(await main(["serve"])).toBe(2);
    expect(err.join("\n")).toMatch(/glmv serve curriculum/);
    err = [];
    expect(await main(["reward", "frob"])).toBe(2);
    expect(err.join("\n")).toMatch(/unknown command 'reward frob'[\s\S]*glmv reward score/);
    expect(await main([])).toBe(2);
  });
});

describe("describeFailure: one line and the exit code", () => {
  it("usage and input GlmvErrors exit 2, job failures 1, always on one line", () => {
    expect(
      describeFailure(new GlmvError("bad_config", "no text_config", { where: "a/config.json" })),
    ).toEqual({
      line: "bad_config: no text_config (at a/config.json)",
      exitCode: EXIT_USAGE,
    });
    expect(describeFailure(new GlmvError("not_found", "x")).exitCode).toBe(EXIT_USAGE);
    expect(describeFailure(new GlmvError("worker_crashed", "x")).exitCode).toBe(EXIT_FAILED);
    expect(describeFailure(new GlmvError("io_error", "a\nb")).line).toBe("io_error: a; b");
  });

  it("names the port and address of a listen error", () => {
    const inUse = Object.assign(new Error("listen EADDRINUSE: address already in use 127.0.0.1:8000"), {
      code: "EADDRINUSE",
      syscall: "listen",
      address: "127.0.0.1",
      port: 8000,
    });
    expect(describeFailure(inUse)).toEqual({
      line: "port 8000 on 127.0.0.1 is already in use (EADDRINUSE: pick another --port, or 0 for any free one)",
      exitCode: EXIT_USAGE,
    });
    // a server that words the failure itself (glmv serve trainer's listener) still exits 2
    const worded = listenFailure(inUse, "127.0.0.1", 8000);
    expect(describeFailure(worded)).toMatchObject({ exitCode: EXIT_USAGE });
    expect(describeFailure(new GlmvError("io_error", "disk full"))).toMatchObject({ exitCode: EXIT_FAILED });
    const privileged = Object.assign(new Error("listen EACCES"), { ...inUse, code: "EACCES", port: 80 });
    expect(describeFailure(privileged)).toMatchObject({
      line: expect.stringMatching(/port 80 .*needs privileges/),
    });
    const badPort = Object.assign(
      new RangeError("options.port should be >= 0 and < 65536. Received type number (99999)."),
      { code: "ERR_SOCKET_BAD_PORT" },
    );
    expect(describeFailure(badPort)).toEqual({
      line: "--port must be an integer in [0, 65535], got 99999",
      exitCode: EXIT_USAGE,
    });
  });

  it("names the file of a missing or unreadable path; a full disk is a job failure", () => {
    const missing = Object.assign(new Error("ENOENT: no such file or directory, open 'r.yaml'"), {
      code: "ENOENT",
      syscall: "open",
      path: "r.yaml",
    });
    expect(describeFailure(missing)).toEqual({
      line: "cannot open r.yaml: no such file or folder",
      exitCode: 2,
    });
    const full = Object.assign(new Error("ENOSPC"), { code: "ENOSPC", syscall: "write", path: "o" });
    expect(describeFailure(full).exitCode).toBe(EXIT_FAILED);
  });

  it("a YAML error keeps its first line; an internal bug is one line with the GLMV_DEBUG hint", () => {
    const yaml = Object.assign(
      new Error("Nested mappings are not allowed at line 1, column 4:\n\na: b: c\n   ^\n"),
      {
        name: "YAMLParseError",
      },
    );
    expect(describeFailure(yaml)).toEqual({
      line: "invalid YAML: Nested mappings are not allowed at line 1, column 4:",
      exitCode: EXIT_USAGE,
    });
    const bug = describeFailure(new TypeError("cannot read properties of undefined"));
    expect(bug.exitCode).toBe(EXIT_FAILED);
    expect(bug.line).toMatch(/^internal error: TypeError: .*GLMV_DEBUG=1/);
    expect(oneLine("a\n\n  b  \n")).toBe("a; b");
  });
});
