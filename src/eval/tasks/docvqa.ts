/**
 * DocVQA and InfographicVQA (validation; the test splits are submission-only). Official rule: ANLS as lmms-eval
 * `lmms_eval/api/metrics.py` `anls()` computes it (threshold 0.5, normalised strings for the distance but the
 * un-normalised lengths for the ratio; see `scoring/anls.ts`); the headline is the mean, ×100. Prompt: the question
 * + "\nAnswer the question using a single word or phrase." (lmms-eval `docvqa`/`infovqa` templates).
 * Release formats: the original JSON (`val_v1.0.json` with `documents/`; `infographicsVQA_val_v1.0_withQT.json`
 * with its images folder) and the hub's `lmms-lab/DocVQA` Parquet (configs `DocVQA`, `InfographicVQA`).
 */
import { dirname, extname, join } from "node:path";
import { type BenchRecord, imageFromCell } from "../records.ts";
import { anlsScore } from "../scoring/anls.ts";
import { breakdownBy, meanScore } from "../scoring/breakdown.ts";
import type { EvalImage, EvalItem, EvalTask, TaskSummary } from "../types.ts";
import {
  imageAt,
  optionalStringList,
  readDataArray,
  readReleaseRecords,
  releaseShards,
  responseOf,
  type SourcedRecord,
  stringField,
  stringList,
} from "./release-records.ts";

export type DocVqaItem = EvalItem & { gold: string[]; fields: Record<string, string[]> };

export const DOCVQA_POST_PROMPT = "\nAnswer the question using a single word or phrase.";

type DocTaskSpec = {
  name: string;
  description: string;
  maxTokens: number;
  /** List fields kept for breakdowns, as the release names them (one item counts under each value). */
  breakdownFields: string[];
  /** Where an original-JSON record's image is, relative to the JSON file's folder. */
  imageCandidates: (record: BenchRecord, dir: string, where: string) => string[];
};

function toItem(
  spec: DocTaskSpec,
  source: { record: BenchRecord; where: string; file?: string },
): DocVqaItem {
  const { record, where, file } = source;
  const images: EvalImage[] = [];
  if (file !== undefined) {
    const hubImage = record.image && typeof record.image === "object";
    images.push(
      hubImage
        ? imageFromCell(record.image, file, `${where}.image`)
        : imageAt(spec.imageCandidates(record, dirname(file), where)),
    );
  }
  const fields: Record<string, string[]> = {};
  for (const f of spec.breakdownFields) fields[f] = optionalStringList(record, f, where);
  return {
    id: stringField(record, "questionId", where),
    prompt: `${stringField(record, "question", where)}${DOCVQA_POST_PROMPT}`,
    images,
    gold: stringList(record, "answers", where),
    fields,
  };
}

function makeDocTask(spec: DocTaskSpec): EvalTask<DocVqaItem> {
  return {
    name: spec.name,
    description: spec.description,
    answerScope: "box",
    maxTokens: spec.maxTokens,
    async load(path) {
      const items: DocVqaItem[] = [];
      for (const file of await releaseShards(path)) {
        const ext = extname(file).toLowerCase();
        const sources: SourcedRecord[] =
          ext === ".json" ? await readDataArray(file) : await readReleaseRecords(file);
        for (const source of sources) items.push(toItem(spec, source));
      }
      return items;
    },
    fromRecord(record, line) {
      return { item: toItem(spec, { record, where: `line ${line}` }), response: responseOf(record, line) };
    },
    scoreAll(inputs) {
      return inputs.map(({ item, answer }) => ({ score: anlsScore(answer, item.gold), extracted: answer }));
    },
    summarize(items, verdicts): TaskSummary {
      const anls = meanScore(verdicts.map((v) => v.score));
      const breakdowns: TaskSummary["breakdowns"] = {};
      for (const f of spec.breakdownFields) {
        const rows = breakdownBy(
          items.map((it) => it.fields[f]),
          verdicts,
        );
        if (Object.keys(rows).length > 0) breakdowns[f] = rows;
      }
      return { headline: 100 * anls, metric: "ANLS", unit: "×100", breakdowns };
    },
  };
}

export const docvqa = makeDocTask({
  name: "docvqa",
  description: "DocVQA val: ANLS (threshold 0.5), by question type",
  maxTokens: 128,
  breakdownFields: ["question_types"],
  imageCandidates: (record, dir, where) => {
    const rel = stringField(record, "image", where);
    return [join(dir, rel), join(dir, "..", rel)];
  },
});

export const infovqa = makeDocTask({
  name: "infovqa",
  description: "InfographicVQA val: ANLS (threshold 0.5), by answer type, evidence and operation",
  maxTokens: 32,
  breakdownFields: ["answer_type", "evidence", "operation/reasoning"],
  imageCandidates: (record, dir, where) => {
    const name = stringField(record, "image_local_name", where);
    return [join(dir, "infographicsvqa_images", name), join(dir, "images", name), join(dir, name)];
  },
});
