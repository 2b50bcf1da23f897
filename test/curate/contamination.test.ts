import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CurateItem, StageOutcome } from "../../src/curate/stage.ts";
import { contamination } from "../../src/curate/stages/instruct/contamination.ts";
import { normalizedWords } from "../../src/curate/stages/instruct/ngrams.ts";
import { loadTask } from "../../src/eval/registry.ts";
import { openContext, runStage } from "./stage-driver.ts";

// The real benchmark samples the eval task tests read (copies of /work/shared/benchmarks kept in the repository).
const REPO = resolve(import.meta.dirname, "../..");
const BENCHMARKS = [
  { task: "ai2d", data: "test/benchmarks/mmmu-pro/data.jsonl" },
  { task: "mathvista", data: "test/benchmarks/mathvista/testmini.json" },
];
const AI2D_IMAGE = "ai2d_00001317.png";

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "glmv-contam-test-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A context whose relative paths resolve against the repository (as a pipeline file beside it would). */
async function repoContext() {
  const ctx = openContext(await mkdtemp(join(scratch, "state-")));
  return { ...ctx, baseDir: REPO };
}

let n = 0;
function sft(question: string, media: CurateItem["media"] = []): CurateItem {
  return {
    id: `item-${n++}`,
    media,
    fields: {
      messages: [
        { role: "user", content: question },
        { role: "assistant", content: "<think>…</think>" },
      ],
    },
  };
}

const summary = (o: StageOutcome | undefined) => (o?.kind === "keep" ? "keep" : `${o?.reason}: ${o?.detail}`);

/** A benchmark image re-encoded as a JPEG at 85% of its size: the same picture, other bytes. */
async function reencoded(file: string): Promise<Uint8Array> {
  const img = sharp(await readFile(file));
  const { width } = await img.metadata();
  return new Uint8Array(
    await img
      .resize(Math.round(width! * 0.85))
      .jpeg({ quality: 60 })
      .toBuffer(),
  );
}

/** A picture that is in no benchmark: smooth colour gradients. */
async function cleanImage(): Promise<Uint8Array> {
  const side = 96;
  const rgb = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) rgb.set([x * 2, y * 2, (x * y) % 256], (y * side + x) * 3);
  return new Uint8Array(
    await sharp(rgb, { raw: { width: side, height: side, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

describe("contamination against the eval tasks' benchmark data", () => {
  it("catches a copied question (English and Chinese), a re-encoded benchmark image, and keeps clean items", async () => {
    // The id the ai2d task's own loader gives the item whose image we plant.
    const ai2d = await (await loadTask("ai2d")).load(join(REPO, BENCHMARKS[0]!.data));
    const planted = ai2d.find((it) =>
      it.images.some((im) => "path" in im && basename(im.path) === AI2D_IMAGE),
    )!;
    const items = [
      // MathVista pid 1, one sentence of it, in other case and punctuation inside a longer request
      sft(
        "Solve this: WHEN a spring does work on an object we cannot find the work by simply multiplying the " +
          "spring force by the object's displacement!! Explain.",
      ),
      // MathVista pid 3 (Chinese), with ASCII punctuation
      sft("请回答：△ABC的两内角平分线OB,OC相交于点O,若∠A=110°,则∠BOC=?"),
      // only MathVista's prompt boilerplate, shared by hundreds of its prompts
      sft(
        "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, " +
          "at the end.\nQuestion: How many apples are on the table?",
      ),
      sft("What does this diagram show?", [
        { name: "0.jpg", bytes: await reencoded(join(REPO, "test/benchmarks/mmmu-pro/images", AI2D_IMAGE)) },
      ]),
      sft("Describe the colours in this picture.", [{ name: "0.png", bytes: await cleanImage() }]),
    ];
    const out = await runStage(contamination, { benchmarks: BENCHMARKS }, items, await repoContext());
    expect(summary(out[0])).toBe(
      'contaminated_text: mathvista:1 shares "when a spring does work on an object we cannot find the work"',
    );
    expect(summary(out[1])).toMatch(/^contaminated_text: mathvista:3 shares "abc 的 两 内 角/);
    expect(summary(out[2])).toBe("keep");
    expect(summary(out[3])).toMatch(
      new RegExp(`^contaminated_image: ai2d:${planted.id} \\(0\\.jpg, Hamming \\d\\)$`),
    );
    expect(summary(out[4])).toBe("keep");
  });

  it("reads questions from a text field too, and can leave images out", async () => {
    const question: CurateItem = {
      id: "q",
      media: [],
      fields: {
        question:
          "Why is this an emergency? This patient began vomiting after eating pumpkin pie and developed severe chest pain.",
      },
    };
    const out = await runStage(
      contamination,
      { benchmarks: BENCHMARKS, images: false },
      [question],
      await repoContext(),
    );
    expect(summary(out[0])).toMatch(
      /^contaminated_text: ai2d:0 shares "this patient began vomiting after eating pumpkin pie and developed severe chest pain"$/,
    );
  });

  it("builds each benchmark's index once into the state folder, and rebuilds it when the release file changes", async () => {
    const data = join(scratch, "bench");
    await mkdir(join(data, "images"), { recursive: true });
    await copyFile(join(REPO, "test/benchmarks/mmmu-pro/data.jsonl"), join(data, "data.jsonl"));
    for (const f of await readdir(join(REPO, "test/benchmarks/mmmu-pro/images")))
      await copyFile(join(REPO, "test/benchmarks/mmmu-pro/images", f), join(data, "images", f));
    const ctx = await repoContext();
    const options = { benchmarks: [{ task: "ai2d", data: join(data, "data.jsonl") }], images: false };
    const copied = () =>
      sft("This patient began vomiting after eating pumpkin pie and developed severe chest pain. Why?");

    expect(summary((await runStage(contamination, options, [copied()], ctx))[0])).toMatch(
      /^contaminated_text: ai2d:0 /,
    );
    const [cacheFile] = await readdir(join(ctx.stateDir, "contamination"));
    expect(cacheFile).toMatch(/^ai2d-[0-9a-f]{16}\.json$/);

    // A second open reads the cache: an id changed in it shows up in the detail.
    const path = join(ctx.stateDir, "contamination", cacheFile!);
    const cached = JSON.parse(await readFile(path, "utf8")) as { ids: string[] };
    cached.ids[0] = "from-cache";
    await writeFile(path, JSON.stringify(cached));
    expect(summary((await runStage(contamination, options, [copied()], ctx))[0])).toMatch(/ai2d:from-cache /);

    // A release file with a new time is another benchmark version: read again.
    const later = new Date(Date.now() + 60_000);
    await utimes(join(data, "data.jsonl"), later, later);
    expect(summary((await runStage(contamination, options, [copied()], ctx))[0])).toMatch(
      /^contaminated_text: ai2d:0 /,
    );
  });

  it("waits for another worker's build (a live lock) and takes over a killed builder's (a stale lock)", async () => {
    const options = { benchmarks: [BENCHMARKS[0]!], images: false };
    const copied = () =>
      sft("This patient began vomiting after eating pumpkin pie and developed severe chest pain. Why?");
    const built = await repoContext();
    await runStage(contamination, options, [copied()], built);
    const [name] = await readdir(join(built.stateDir, "contamination"));
    const index = JSON.parse(await readFile(join(built.stateDir, "contamination", name!), "utf8"));

    // Another worker holds the lock: this one waits and reads what that worker writes, building nothing itself.
    const waiting = await repoContext();
    const dir = join(waiting.stateDir, "contamination");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${name}.lock`), "");
    const opened = runStage(contamination, options, [copied()], waiting);
    await new Promise((r) => setTimeout(r, 600));
    await writeFile(
      join(dir, name!),
      JSON.stringify({ ...index, ids: index.ids.map(() => "by-other-worker") }),
    );
    expect(summary((await opened)[0])).toMatch(/ai2d:by-other-worker /);

    // A lock nobody has touched for a minute was left by a killed builder: taken over, the index built.
    const stale = await repoContext();
    const staleDir = join(stale.stateDir, "contamination");
    await mkdir(staleDir, { recursive: true });
    await writeFile(join(staleDir, `${name}.lock`), "");
    const old = new Date(Date.now() - 60_000);
    await utimes(join(staleDir, `${name}.lock`), old, old);
    expect(summary((await runStage(contamination, options, [copied()], stale))[0])).toMatch(/ai2d:0 /);
    expect(await readdir(staleDir)).toEqual([name]);
  });

  it("refuses an unknown task and a missing release file when the stage opens", async () => {
    const ctx = await repoContext();
    await expect(
      contamination.open(
        contamination.options.parse({ benchmarks: [{ task: "nope", data: "x.json" }] }),
        ctx,
      ),
    ).rejects.toThrow(/unknown task 'nope'/);
    await expect(
      contamination.open(
        contamination.options.parse({ benchmarks: [{ task: "ai2d", data: "missing.jsonl" }] }),
        ctx,
      ),
    ).rejects.toThrow(/missing\.jsonl/);
  });

  it("splits CJK text into characters and folds case, width and punctuation", () => {
    expect(normalizedWords("ＡＢＣ, Hello—World 图中")).toEqual(["abc", "hello", "world", "图", "中"]);
  });
});
