/**
 * Everyday mistakes with the real CLI (`node bin/glmv.js` in a child process): each is one clear `glmv <cmd>: …`
 * line naming what was wrong, exit code 2, and never a stack trace or a dump.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GlmvRun, runGlmv } from "./helpers/spawn-glmv.ts";

/** Run `glmv ...args` in the temp folder (whatever a command writes by default lands there, not in the repo). */
const glmv = (args: readonly string[]) =>
  runGlmv(args, { cwd: dir, env: { ...process.env, GLMV_DEBUG: "" } });

/**
 * Exit 2; every stderr line is a `glmv <command>: …` line (no stack frames, no dumps; a usage text may follow a
 * blank line); the last of them names what was wrong.
 */
function expectOneClearLine(r: GlmvRun, command: string, names: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const [message = ""] = r.stderr.split(/\n\s*\n/); // anything after a blank line is the command's usage
  const lines = message.trimEnd().split("\n");
  for (const line of lines) expect(line).toMatch(new RegExp(`^glmv ${command}: `));
  expect(lines.at(-1)).toMatch(names);
  expect(lines.at(-1)!.length).toBeLessThan(400);
}

let dir: string;
let busy: Server;
let busyPort: number;
let prompts: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "glmv-cli-mistakes-"));
  prompts = join(dir, "prompts.jsonl");
  writeFileSync(prompts, `${JSON.stringify({ id: "p1", prompt: "How many?" })}\n`);
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => busy.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const SERVERS: [name: string, extra: () => string[]][] = [
  ["serve reward", () => []],
  ["serve curriculum", () => ["--db", join(dir, `c-${Math.random()}.sqlite`), "--prompts", prompts]],
  ["serve trainer", () => ["--preset", "bigram"]],
];

describe.each(SERVERS)("glmv %s", (name, extra) => {
  it("a port in use names the port", { timeout: 90_000 }, async () => {
    const r = await glmv([...name.split(" "), "--port", String(busyPort), ...extra()]);
    expectOneClearLine(r, name, new RegExp(`port ${busyPort}\\b.*in use`));
  });

  it("--port 99999 names --port", { timeout: 90_000 }, async () => {
    const r = await glmv([...name.split(" "), "--port", "99999", ...extra()]);
    expectOneClearLine(r, name, /--port .*65535.*99999|--port.*99999.*65535/);
  });
});

describe("glmv rl --config", () => {
  it("a missing file names the file", { timeout: 90_000 }, async () => {
    const missing = join(dir, "no-such.yaml");
    expectOneClearLine(await glmv(["rl", "--config", missing]), "rl", new RegExp(missing));
  });

  it("invalid YAML names the file", { timeout: 90_000 }, async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "sampler: rlcs\n  steps: : 3\n");
    expectOneClearLine(await glmv(["rl", "--config", bad]), "rl", /YAML/);
  });
});

describe("glmv generate with a broken config.json", () => {
  /** A checkpoint folder holding only `configText` as config.json (the config is read before anything else). */
  const generate = async (configText: string, name: string) => {
    const folder = join(dir, name);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "config.json"), configText);
    return {
      file: join(folder, "config.json"),
      run: await glmv(["generate", "--model", folder, "--image", join(dir, "i.png"), "--prompt", "p"]),
    };
  };

  it("invalid JSON names the file", { timeout: 90_000 }, async () => {
    const { file, run } = await generate('{"text_config": ', "bad-json");
    expectOneClearLine(run, "generate", new RegExp(`not valid JSON.*${file}`));
  });

  it("{} names the missing field instead of falling back to the 9B shape", { timeout: 90_000 }, async () => {
    const { file, run } = await generate("{}", "empty");
    expectOneClearLine(run, "generate", new RegExp(`text_config is missing.*${file}`));
  });
});

describe("glmv reward score", () => {
  const item = JSON.stringify({ id: 1, domain: "counting", response: "r", answer: "3" });

  it("--out in a missing folder is refused before scoring, naming the folder", {
    timeout: 90_000,
  }, async () => {
    const input = join(dir, "in.jsonl");
    writeFileSync(input, `${item}\n`);
    const r = await glmv(["reward", "score", "--in", input, "--out", join(dir, "nope", "o.jsonl")]);
    expectOneClearLine(r, "reward score", /--out .*nope.* does not exist/);
    expect(r.stderr).not.toMatch(/\.tmp/);
  });

  it("--out equal to --in is refused and the input kept", { timeout: 90_000 }, async () => {
    const input = join(dir, "same.jsonl");
    writeFileSync(input, `${item}\n`);
    const r = await glmv(["reward", "score", "--in", input, "--out", input]);
    expectOneClearLine(r, "reward score", /same file as --in/);
    expect(readFileSync(input, "utf8")).toBe(`${item}\n`);
  });

  it("--workers beyond the machine's bound names the bound", { timeout: 90_000 }, async () => {
    const r = await glmv(["reward", "score", "--in", "a", "--out", "b", "--workers", "100"]);
    expectOneClearLine(r, "reward score", /--workers must be an integer in \[1, \d+\]/);
  });

  it("no valid line exits 2", { timeout: 90_000 }, async () => {
    const input = join(dir, "junk.jsonl");
    writeFileSync(input, "not json\n");
    const r = await glmv(["reward", "score", "--in", input, "--out", join(dir, "junk-out.jsonl")]);
    expectOneClearLine(r, "reward score", /no valid line/);
  });
});

describe("help and version", () => {
  it("glmv reward --help, glmv serve --help and glmv --version exit 0", { timeout: 90_000 }, async () => {
    const reward = await glmv(["reward", "--help"]);
    expect(reward.code).toBe(0);
    expect(reward.stdout).toMatch(/glmv reward score/);
    const serve = await glmv(["serve", "--help"]);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toMatch(/glmv serve trainer/);
    const version = await glmv(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
