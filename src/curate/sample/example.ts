/**
 * `glmv data example`: the documented example of issue 21 in one command. It writes the generated sample, runs the
 * three pipelines of `examples/data/` on it (pairs, a PDF, saved HTML pages), writes each run's report, and checks
 * that every planted case was caught. Rerunning into the same folder resumes: the sample is kept and finished
 * shards are skipped, so a killed run finishes with the same outputs.
 */
import { copyFile, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../../util/fs.ts";
import { loadPipeline } from "../pipeline.ts";
import { writeReport } from "../report/report.ts";
import { type RunOptions, runPipeline } from "../run/runner.ts";
import { checkPlanted, droppedIds, type KindCheck } from "./check.ts";
import { makeCurationSample, type SampleTruth } from "./make-sample.ts";

export const EXAMPLE_PIPELINES = ["pairs", "pdf", "gui"] as const;

/** The folder of the example's pipeline files (shipped with the package). */
export const examplePipelinesDir = (): string =>
  fileURLToPath(new URL("../../../examples/data/", import.meta.url));

export type ExampleCheck = {
  pairs: KindCheck[];
  pdf: { pages: number; expectedPages: number; qrRemoved: number; expectedQr: number; figures: number };
  gui: { pages: number; expectedPages: number; hiddenListed: string[] };
  ok: boolean;
};

export type ExampleOptions = {
  distinct?: number;
  /** Progress callbacks for each pipeline's run, asked for as the pipeline starts. */
  progressFor?: (pipeline: string) => Pick<RunOptions, "onStart" | "onShard">;
};

type OutputRecord = Record<string, unknown> & { id: string };

async function outputRecords(runDir: string): Promise<OutputRecord[]> {
  const dir = join(runDir, "output");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".jsonl")).sort();
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), "utf8")));
  return texts.flatMap((t) =>
    t
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as OutputRecord),
  );
}

async function checkDocuments(out: string, truth: SampleTruth): Promise<Omit<ExampleCheck, "pairs" | "ok">> {
  const pages = await outputRecords(join(out, "pdf"));
  const blocks = pages.flatMap((p) => (p.blocks as { type: string }[] | undefined) ?? []);
  const qrRemoved = pages.reduce(
    (n, p) => n + ((p.removedImages as Record<string, number>)?.qr_code ?? 0),
    0,
  );
  const gui = await outputRecords(join(out, "gui"));
  const names = new Set(gui.flatMap((p) => (p.nodes as { name?: string }[]).map((n) => n.name ?? "")));
  return {
    pdf: {
      pages: pages.length,
      expectedPages: truth.pdf.pages,
      qrRemoved,
      expectedQr: truth.pdf.qrAds,
      figures: blocks.filter((b) => b.type === "image").length,
    },
    gui: {
      pages: gui.length,
      expectedPages: truth.pages.length,
      hiddenListed: truth.hiddenControls.filter((c) => names.has(c)),
    },
  };
}

/**
 * @example const check = await runExample("runs/data-example"); if (!check.ok) process.exitCode = 1;
 */
export async function runExample(out: string, options: ExampleOptions = {}): Promise<ExampleCheck> {
  const sampleDir = join(out, "sample");
  const truthFile = join(sampleDir, "truth.json");
  const truth: SampleTruth = await readFile(truthFile, "utf8").then(
    (t) => JSON.parse(t) as SampleTruth,
    () => makeCurationSample(sampleDir, { distinct: options.distinct }),
  );
  for (const name of EXAMPLE_PIPELINES) {
    const file = join(out, `${name}.yaml`);
    await copyFile(join(examplePipelinesDir(), `${name}.yaml`), file);
    await runPipeline(await loadPipeline(file), { out: join(out, name), ...options.progressFor?.(name) });
    await writeReport(join(out, name));
  }
  const pairs = checkPlanted(truth, await droppedIds(join(out, "pairs")));
  const docs = await checkDocuments(out, truth);
  const ok =
    pairs.every((r) => r.missed.length === 0) &&
    docs.pdf.pages === docs.pdf.expectedPages &&
    docs.pdf.qrRemoved === docs.pdf.expectedQr &&
    docs.pdf.figures >= 1 &&
    docs.gui.pages === docs.gui.expectedPages &&
    docs.gui.hiddenListed.length === 0;
  const check: ExampleCheck = { pairs, ...docs, ok };
  await writeFileAtomic(join(out, "check.json"), `${JSON.stringify(check, null, 2)}\n`);
  return check;
}

/** The check as the table the command prints. */
export function formatExampleCheck(check: ExampleCheck): string {
  const mark = (ok: boolean) => (ok ? "caught" : "MISSED");
  const rows = check.pairs.map(
    (r) =>
      `pairs  ${r.kind.padEnd(15)} ${String(r.caught).padStart(3)}/${r.planted}  ${mark(r.missed.length === 0)}${r.missed.length ? `  ${r.missed.join(", ")}` : ""}`,
  );
  const { pdf, gui } = check;
  rows.push(
    `pdf    pages           ${pdf.pages}/${pdf.expectedPages}  ${mark(pdf.pages === pdf.expectedPages)}`,
    `pdf    qr-code ad      ${pdf.qrRemoved}/${pdf.expectedQr}  ${mark(pdf.qrRemoved === pdf.expectedQr)} (removed from its page)`,
    `pdf    figures         ${pdf.figures}      ${mark(pdf.figures >= 1)}`,
    `gui    pages           ${gui.pages}/${gui.expectedPages}  ${mark(gui.pages === gui.expectedPages)}`,
    `gui    hidden/covered  ${gui.hiddenListed.length ? `listed: ${gui.hiddenListed.join(", ")}  MISSED` : "none listed  caught"}`,
  );
  return rows.join("\n");
}
