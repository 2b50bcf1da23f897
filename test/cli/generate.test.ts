import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateCommand, parseGenerateArgs, runGenerate } from "../../src/cli/generate.ts";
import { main } from "../../src/cli/main.ts";
import { saveCheckpointDir } from "../../src/model/checkpoint.ts";
import { presetConfig } from "../../src/model/config.ts";
import { toHfConfig } from "../../src/model/config-hf.ts";
import { initNamed } from "../../src/model/params.ts";
import { buildTinyTokenizerJson } from "../../src/model/tiny-tokenizer.ts";

let dir: string;
let model: string;
let moeModel: string;
let image: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "glmv-generate-"));
  model = join(dir, "ckpt");
  const cfg = presetConfig("tiny");
  await saveCheckpointDir(model, {
    config: toHfConfig(cfg),
    tensors: initNamed(cfg, 5, 0.3),
    tokenizerJson: buildTinyTokenizerJson(),
  });
  moeModel = join(dir, "ckpt-moe");
  const moeCfg = presetConfig("tiny-moe");
  await saveCheckpointDir(moeModel, {
    config: toHfConfig(moeCfg),
    tensors: initNamed(moeCfg, 5, 0.3),
    tokenizerJson: buildTinyTokenizerJson(),
  });
  image = join(dir, "img.png");
  const pixels = Buffer.alloc(60 * 44 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37) % 251;
  await writeFile(
    image,
    await sharp(pixels, { raw: { width: 60, height: 44, channels: 3 } })
      .png()
      .toBuffer(),
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const capture = (isTTY: boolean) => {
  const chunks: string[] = [];
  return { chunks, io: { write: (s: string) => chunks.push(s), isTTY } };
};

describe("runGenerate end to end on a tiny random checkpoint", () => {
  const base = ["--model", "", "--image", "", "--prompt", "What is in the image?", "--max-new-tokens", "6"];
  const argv = (extra: string[] = []) => {
    const a = [...base, ...extra];
    a[1] = model;
    a[3] = image;
    return a;
  };

  it("prints the whole response when not a TTY, and streams the same text on a TTY", async () => {
    const args = parseGenerateArgs(argv());
    if (typeof args !== "object" || args === null) throw new Error(String(args));
    const plain = capture(false);
    const text = await runGenerate(args, plain.io);
    expect(plain.chunks).toEqual([`${text}\n`]);
    expect(text.length).toBeGreaterThan(0);
    const tty = capture(true);
    const streamed = await runGenerate(args, tty.io);
    expect(streamed).toBe(text); // greedy: same response
    expect(tty.chunks.join("")).toBe(`${text}\n`);
    expect(tty.chunks.length).toBeGreaterThan(1); // token by token
  });

  it("--think-budget forces </think><answer> (4.1V) and --no-think changes the prompt", async () => {
    const forced = parseGenerateArgs(argv(["--think-budget", "1"]));
    if (typeof forced !== "object" || forced === null) throw new Error(String(forced));
    const out = capture(false);
    const text = await runGenerate(forced, out.io);
    expect(text).toContain("</think><answer>");
    const noThink = parseGenerateArgs(argv(["--no-think", "--temperature", "0.8", "--seed", "3"]));
    if (typeof noThink !== "object" || noThink === null) throw new Error(String(noThink));
    expect(typeof (await runGenerate(noThink, capture(false).io))).toBe("string");
  });

  it("is reachable through `glmv generate`, and reports a missing model as an error", async () => {
    expect(await generateCommand.run(["--bogus"])).toBe(2);
    const code = await main(["generate", ...argv()].map((a) => (a === model ? join(dir, "nope") : a)));
    expect(code).toBe(2);
  });
});

describe("glmv generate with a broken config.json: one line naming the file and the field, exit 2", () => {
  /** A copy of the tiny checkpoint with `configText` as its config.json; returns main's code and stderr. */
  const runWithConfig = async (name: string, configText: string) => {
    const folder = join(dir, name);
    await cp(model, folder, { recursive: true });
    await writeFile(join(folder, "config.json"), configText);
    const errors: string[] = [];
    const spy = vi
      .spyOn(console, "error")
      .mockImplementation((...a: unknown[]) => void errors.push(a.join(" ")));
    try {
      const code = await main(["generate", "--model", folder, "--image", image, "--prompt", "p"]);
      return { code, stderr: errors.join("\n"), folder, file: join(folder, "config.json") };
    } finally {
      spy.mockRestore();
    }
  };
  const expectOneLine = (r: { code: number; stderr: string; file: string }, field: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(r.file);
    expect(r.stderr).toMatch(field);
  };

  it("invalid JSON", async () => {
    expectOneLine(
      await runWithConfig("bad-json", '{"text_config": {'),
      /bad_config: config\.json is not valid JSON/,
    );
  });

  it("{} no longer falls back to the 9B shape", async () => {
    expectOneLine(await runWithConfig("empty", "{}"), /text_config is missing/);
  });

  it("a wrong type names the field", async () => {
    const hf = toHfConfig(presetConfig("tiny")) as { text_config: Record<string, unknown> };
    hf.text_config.num_hidden_layers = "two";
    expectOneLine(await runWithConfig("wrong-type", JSON.stringify(hf)), /text_config\.num_hidden_layers/);
  });

  it("weights of another shape: a count and a few tensor names, not every key", async () => {
    const other = presetConfig("tiny", { text: { numLayers: 40 } });
    const r = await runWithConfig("other-shape", JSON.stringify(toHfConfig(other)));
    expectOneLine({ ...r, file: r.folder }, /checkpoint_mismatch: .*\d+ tensors missing, e\.g\. /);
    expect(r.stderr.length).toBeLessThan(600);
  });
});

describe("runGenerate on a GLM-4.5V (MoE) checkpoint", () => {
  const argv = (extra: string[] = []) => [
    "--model",
    moeModel,
    "--image",
    image,
    "--prompt",
    "What is this?",
    "--max-new-tokens",
    "6",
    ...extra,
  ];
  const run = async (extra: string[]) => {
    const args = parseGenerateArgs(argv(extra));
    if (typeof args !== "object" || args === null) throw new Error(String(args));
    return runGenerate(args, capture(false).io);
  };

  it("defaults to the 4.5V style: a forced thought closes with </think> alone", async () => {
    const text = await run(["--think-budget", "1"]);
    expect(text).toContain("</think>");
    expect(text).not.toContain("</think><answer>");
  });

  it("--style 4.1v still overrides it, and --no-think works", async () => {
    expect(await run(["--think-budget", "1", "--style", "4.1v"])).toContain("</think><answer>");
    expect(typeof (await run(["--no-think", "--temperature", "0.8", "--seed", "3"]))).toBe("string");
  });
});
