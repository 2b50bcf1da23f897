/**
 * `glmv data sample DIR`: write the generated curation sample that `examples/data/` runs on — image–caption pairs
 * (JSONL + an image folder) with planted cases, a PDF paper (a one-item JSONL pointing at it) and a folder of saved
 * HTML pages — plus `truth.json`, which names every planted case.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../util/fs.ts";
import { HIDDEN_CONTROLS, makeSamplePdf, pageDocument, SAMPLE_PAGES } from "./docs-sample.ts";
import { makePairsSample, type PairsTruth } from "./pairs-sample.ts";

export type CurationSampleOptions = { distinct?: number; seed?: number };

/** What `truth.json` holds: the planted pairs, and what the documents are. */
export type SampleTruth = PairsTruth & {
  pairs: number;
  /** The paper: its id, page count and how many QR-code ads it prints. */
  pdf: { id: string; pages: number; qrAds: number };
  pages: string[];
  /** Controls on the saved pages that are hidden or covered. */
  hiddenControls: string[];
};

/**
 * @example const truth = await makeCurationSample("runs/sample", { distinct: 240 });
 */
export async function makeCurationSample(
  dir: string,
  options: CurationSampleOptions = {},
): Promise<SampleTruth> {
  const { pairs, truth } = await makePairsSample({
    distinct: options.distinct ?? 240,
    seed: options.seed ?? 1,
  });
  await mkdir(join(dir, "images"), { recursive: true });
  await mkdir(join(dir, "docs"), { recursive: true });
  await mkdir(join(dir, "pages"), { recursive: true });
  for (const p of pairs) await writeFile(join(dir, "images", p.image), p.bytes);
  const lines = pairs.map((p) => JSON.stringify({ id: p.id, image: p.image, caption: p.caption }));
  await writeFileAtomic(join(dir, "pairs.jsonl"), `${lines.join("\n")}\n`);
  await writeFile(join(dir, "docs", "paper.pdf"), await makeSamplePdf());
  const doc = { id: "paper", document: "paper.pdf", source: "generated sample" };
  await writeFileAtomic(join(dir, "docs.jsonl"), `${JSON.stringify(doc)}\n`);
  for (const [name, body] of Object.entries(SAMPLE_PAGES))
    await writeFile(join(dir, "pages", name), pageDocument(name.replace(".html", ""), body));
  const all: SampleTruth = {
    ...truth,
    pairs: pairs.length,
    pdf: { id: "paper", pages: 2, qrAds: 1 },
    pages: Object.keys(SAMPLE_PAGES),
    hiddenControls: [...HIDDEN_CONTROLS],
  };
  await writeFileAtomic(join(dir, "truth.json"), `${JSON.stringify(all, null, 2)}\n`);
  return all;
}
