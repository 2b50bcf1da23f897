/**
 * TextVQA val (5000 questions, 10 human answers each). Official rule: the VQA score as lmms-eval
 * `lmms_eval/tasks/textvqa/utils.py` computes it — the answer and the 10 human answers through EvalAI's answer
 * processor, then the mean over the 10 leave-one-out subsets of min(1, matches / 3) (`scoring/vqa-normalize.ts`).
 * Prompt: `question.capitalize()` (Python's: the rest lower-cased) + "\nAnswer the question using a single word or
 * phrase.". Release formats: `TextVQA_0.5.1_val.json` (images `train_images/<image_id>.jpg`) and the hub's
 * `lmms-lab/textvqa` Parquet.
 */
import { dirname, extname, join } from "node:path";
import { pyCapitalize } from "../python/text.ts";
import { type BenchRecord, imageFromCell } from "../records.ts";
import { breakdownBy, meanScore } from "../scoring/breakdown.ts";
import { processVqaAnswer, vqaScore } from "../scoring/vqa-normalize.ts";
import type { EvalImage, EvalItem, EvalTask, TaskSummary } from "../types.ts";
import {
  imageAt,
  optionalString,
  readDataArray,
  readReleaseRecords,
  releaseShards,
  responseOf,
  type SourcedRecord,
  stringField,
  stringList,
} from "./release-records.ts";

export type TextVqaItem = EvalItem & { gold: string[]; fields: { imageId: string; setName?: string } };

export const TEXTVQA_POST_PROMPT = "\nAnswer the question using a single word or phrase.";

function toItem(source: { record: BenchRecord; where: string; file?: string }): TextVqaItem {
  const { record, where, file } = source;
  const imageId = stringField(record, "image_id", where);
  const images: EvalImage[] = [];
  if (file !== undefined) {
    const dir = dirname(file);
    const name = `${imageId}.jpg`;
    const hubImage = record.image && typeof record.image === "object";
    images.push(
      hubImage
        ? imageFromCell(record.image, file, `${where}.image`)
        : imageAt([
            join(dir, "train_images", name),
            join(dir, "train_val_images", "train_images", name),
            join(dir, "images", name),
            join(dir, name),
          ]),
    );
  }
  const setName = optionalString(record, "set_name", where);
  return {
    id: stringField(record, "question_id", where),
    prompt: `${pyCapitalize(stringField(record, "question", where))}${TEXTVQA_POST_PROMPT}`,
    images,
    gold: stringList(record, "answers", where),
    fields: setName === undefined ? { imageId } : { imageId, setName },
  };
}

export const task: EvalTask<TextVqaItem> = {
  name: "textvqa",
  description:
    "TextVQA val: VQA score over 10 human answers (EvalAI normalisation, leave-one-out min(1, n/3))",
  answerScope: "box",
  async load(path) {
    const items: TextVqaItem[] = [];
    for (const file of await releaseShards(path)) {
      const sources: SourcedRecord[] =
        extname(file).toLowerCase() === ".json" ? await readDataArray(file) : await readReleaseRecords(file);
      for (const source of sources) items.push(toItem(source));
    }
    return items;
  },
  fromRecord(record, line) {
    return { item: toItem({ record, where: `line ${line}` }), response: responseOf(record, line) };
  },
  scoreAll(inputs) {
    return inputs.map(({ item, answer }) => ({
      score: vqaScore(answer, item.gold),
      extracted: processVqaAnswer(answer),
    }));
  },
  summarize(items, verdicts): TaskSummary {
    const accuracy = meanScore(verdicts.map((v) => v.score));
    const sets = breakdownBy(
      items.map((it) => it.fields.setName),
      verdicts,
    );
    return {
      headline: 100 * accuracy,
      metric: "VQA accuracy",
      unit: "%",
      accuracy,
      breakdowns: Object.keys(sets).length > 1 ? { set: sets } : {},
    };
  },
};
