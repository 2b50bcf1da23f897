/**
 * `glmv data example`: generate the curation sample, run the three example pipelines on it, write their reports and
 * check every planted case was caught (exit 1 if one was missed). Rerun into the same folder to resume.
 */
import { join } from "node:path";
import { EXAMPLE_PIPELINES, formatExampleCheck, runExample } from "../curate/sample/example.ts";
import { numberArg, parseCliArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { dataProgress } from "./data-progress.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "./failure.ts";

const USAGE = `usage: glmv data example [--out DIR] [--pairs N]

Writes a generated sample to DIR/sample (image–caption pairs with planted exact and near duplicates, solid colours,
QR-code ads, thumbnails and empty captions; a two-column PDF; saved HTML pages), runs examples/data/{pairs,pdf,gui}.yaml
on it into DIR/<pipeline>/, writes each DIR/<pipeline>/report.html, and prints which planted cases were caught.

options:
  --out DIR    run folder (default runs/data-example); rerun into it to resume after a crash or kill -9
  --pairs N    distinct scenes in the sample (default 240; about 30% more pairs are planted on top)
  -h, --help   show this help`;

async function run(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, { out: { type: "string" }, pairs: { type: "string" } });
  if (typeof values === "string") {
    console.error(`glmv data example: ${values}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const out = typeof values.out === "string" ? values.out : join("runs", "data-example");
  const distinct = numberArg(values, "pairs", { integer: true, min: 8 });
  let progress: ReturnType<typeof dataProgress> | undefined;
  try {
    const check = await runExample(out, {
      distinct,
      progressFor: (name) => {
        progress?.stop();
        process.stderr.write(`[glmv data example] pipeline ${name}\n`);
        progress = dataProgress();
        return progress.callbacks;
      },
    });
    progress?.stop();
    console.log(formatExampleCheck(check));
    console.log(`reports: ${EXAMPLE_PIPELINES.map((p) => join(out, p, "report.html")).join(", ")}`);
    return check.ok ? EXIT_OK : EXIT_FAILED;
  } finally {
    progress?.stop();
  }
}

export const dataExampleCommand: Command = {
  summary: "run the example pipelines on a generated sample and check every planted case is caught",
  run,
};
