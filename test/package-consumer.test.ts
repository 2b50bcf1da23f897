/**
 * glmv as a dependency, used the way a consumer uses it: `npm pack` (which builds dist/ through `prepare`), the
 * tarball unpacked into scratch projects' node_modules, then plain `node` and a strict `tsc` there. The projects
 * link only glmv's declared dependencies, minus tsx: the library must run without a TypeScript loader.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");
// Children run plain Node: no loader or option inherited from the test runner.
const { NODE_OPTIONS: _inherited, ...PLAIN_ENV } = process.env;

const RESPONSE = (answer: string) =>
  `<think>one, two, three</think><answer><|begin_of_box|>${answer}<|end_of_box|></answer>`;

/** A verifier module the consumer injects: it reports whether scoring ran in a worker thread. */
const THREAD_PROBE = `import { isMainThread, threadId } from "node:worker_threads";
export const verifiers = {
  text: () => ({ score: 1, correct: true, reason: isMainThread ? "main thread" : \`worker thread \${threadId}\` }),
};
`;

const CONSUMER_MJS = `import { scoreItems } from "glmv/reward";
import { GlmvError, parseRlConfig, presetConfig, scoreItem } from "glmv";

const counting = { id: 1, domain: "counting", answer: "3", response: ${JSON.stringify(RESPONSE("3"))} };
const probe = { id: 2, domain: "text", answer: "probe", response: ${JSON.stringify(RESPONSE("probe"))} };
const scored = await scoreItems([counting, probe], {
  workers: 1,
  extraVerifiersModule: new URL("./thread-probe.mjs", import.meta.url),
});
const tiny = presetConfig("tiny");
console.log(JSON.stringify({
  rewards: scored.map((r) => r.reward),
  probeReason: scored[1].reason,
  inlineReward: scoreItem(counting).reward,
  rlSteps: parseRlConfig({ rl: { steps: 5 } }).rl.steps,
  tinyVocab: tiny.text.vocabSize,
  typedError: new GlmvError("bad_config", "x") instanceof Error,
}));
`;

const REWARD_ONLY_MJS = `import { scoreItems } from "glmv/reward";

const scored = await scoreItems(
  [
    { id: 1, domain: "counting", answer: "3", response: ${JSON.stringify(RESPONSE("3"))} },
    { id: 2, domain: "text", answer: "probe", response: ${JSON.stringify(RESPONSE("probe"))} },
  ],
  { workers: 1, extraVerifiersModule: new URL("./thread-probe.mjs", import.meta.url) },
);
console.log(JSON.stringify({ rewards: scored.map((r) => r.reward), probeReason: scored[1].reason }));
`;

const CONSUMER_TS = `import { type ScoredResult, type ScoreInput, scoreItems } from "glmv/reward";
import { type GlmvConfig, type MainJobOptions, parseRlConfig, presetConfig, type RlConfig, runMainJob } from "glmv";

const item: ScoreInput = { id: 1, domain: "counting", answer: "3", response: "<answer>3</answer>" };
const results: ScoredResult[] = await scoreItems([item], { workers: 1 });
const reward: number = results[0]?.reward ?? 0;
const config: RlConfig = parseRlConfig({ rl: { steps: 5 } });
const model: GlmvConfig = presetConfig("tiny");
const run: (opts: MainJobOptions) => Promise<{ rl: { accuracy: number } }> = runMainJob;
// The types are real, not \`any\` (with skipLibCheck an unresolved import in a declaration would be \`any\`):
// @ts-expect-error an unknown domain
const typo: ScoreInput = { id: 2, domain: "countng", answer: "3", response: "" };
// @ts-expect-error a config field of the wrong type (the zod-inferred type resolved)
const badConfig: RlConfig = { ...config, seed: "one" };
export { badConfig, config, model, reward, run, typo };
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "nodenext",
    moduleResolution: "nodenext",
    strict: true,
    noEmit: true,
    // What consumers (and `tsc --init`) use: a broken glmv type still shows up through the code below.
    skipLibCheck: true,
    types: ["node"],
  },
  files: ["consumer.ts"],
};

/** Packages the model code needs and the reward system must not: left out of the reward-only project. */
const MODEL_ONLY = ["@jax-js/jax", "@huggingface/tokenizers", "sharp", "better-sqlite3"];

/**
 * A consumer project in `dir`: the tarball unpacked as node_modules/glmv, glmv's dependencies (minus tsx and
 * `leaveOut`) linked from the repo's node_modules, scoped names inside their scope folder.
 */
function makeProject(dir: string, tarball: string, leaveOut: readonly string[]): void {
  const installed = join(dir, "node_modules", "glmv");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  const links = Object.keys(PKG.dependencies).filter((name) => name !== "tsx" && !leaveOut.includes(name));
  for (const name of [...links, "@types/node"]) {
    const target = join(dir, "node_modules", name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(ROOT, "node_modules", name), target, "dir");
  }
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", type: "module" }));
  writeFileSync(join(dir, "thread-probe.mjs"), THREAD_PROBE);
}

/** Run `node <script>` in a project (no inherited loader) and parse the JSON line it prints last. */
function runNode(dir: string, script: string): Record<string, unknown> {
  const out = execFileSync(process.execPath, [script], { cwd: dir, env: PLAIN_ENV, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Record<string, unknown>;
}

describe("glmv as a packed dependency", () => {
  let scratch = "";
  let full = "";
  let rewardOnly = "";
  let packed: string[] = [];

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "glmv-consumer-"));
    const tarballs = join(scratch, "tarballs");
    mkdirSync(tarballs);
    // `npm pack` runs `prepare`, so this also builds dist/ the way a publish or a git install would.
    execFileSync("npm", ["pack", "--pack-destination", tarballs], {
      cwd: ROOT,
      env: PLAIN_ENV,
      stdio: "pipe",
    });
    const [name] = readdirSync(tarballs).filter((f) => f.endsWith(".tgz"));
    if (name === undefined) throw new Error("npm pack wrote no tarball");
    const tarball = join(tarballs, name);
    packed = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n");
    full = join(scratch, "full");
    makeProject(full, tarball, []);
    writeFileSync(join(full, "consumer.mjs"), CONSUMER_MJS);
    writeFileSync(join(full, "consumer.ts"), CONSUMER_TS);
    writeFileSync(join(full, "tsconfig.json"), JSON.stringify(CONSUMER_TSCONFIG));
    rewardOnly = join(scratch, "reward-only");
    makeProject(rewardOnly, tarball, MODEL_ONLY);
    writeFileSync(join(rewardOnly, "consumer.mjs"), REWARD_ONLY_MJS);
  }, 120_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("the tarball ships the built library with its run-time files, the CLI's sources, and no tests", () => {
    for (const file of [
      "package/dist/index.js",
      "package/dist/index.d.ts",
      "package/dist/reward/index.js",
      "package/dist/reward/index.d.ts",
      "package/dist/reward/worker.js",
      "package/dist/reward/worker-boot.mjs",
      "package/dist/model/assets/tiny-tokenizer.json",
      "package/bin/glmv.js",
      "package/src/cli/main.ts",
    ])
      expect(packed).toContain(file);
    expect(packed.filter((f) => f.endsWith(".test.ts") || f.endsWith(".fixture.ts"))).toEqual([]);
    expect(existsSync(join(full, "node_modules", "tsx"))).toBe(false);
  });

  it("plain node imports glmv and glmv/reward and scores a counting item in a worker thread", () => {
    const report = runNode(full, "consumer.mjs");
    expect(report.rewards).toEqual([1, 1]);
    expect(report.probeReason).toMatch(/^worker thread \d+$/);
    expect(report.inlineReward).toBe(1);
    expect(report.rlSteps).toBe(5);
    expect(report.tinyVocab).toBeGreaterThan(0);
    expect(report.typedError).toBe(true);
  });

  it("glmv/reward scores without the model's packages (jax-js, tokenizers, sharp, SQLite) installed", () => {
    const report = runNode(rewardOnly, "consumer.mjs");
    expect(report.rewards).toEqual([1, 1]);
    expect(report.probeReason).toMatch(/^worker thread \d+$/);
  });

  it("a strict nodenext TypeScript consumer type-checks against the declarations with 0 errors", () => {
    let output = "";
    try {
      output = execFileSync(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: full, encoding: "utf8" });
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e); // tsc prints its errors on stdout
    }
    expect(output.trim()).toBe("");
  });
});
