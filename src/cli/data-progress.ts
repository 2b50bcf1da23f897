/**
 * Progress of `glmv data run`: a bar on a terminal, otherwise a plain line at most every few seconds (and at the
 * end) saying how many shard-steps are done and the latest one's counts, for logs under a scheduler.
 */
import type { RunOptions, ShardEvent } from "../curate/run/runner.ts";
import { createProgress, type Progress } from "./progress.ts";

const LINE_EVERY_MS = 5000;

/** The run callbacks that report progress on `stream` (stderr), and `stop` for the end. */
export function dataProgress(stream: NodeJS.WriteStream = process.stderr) {
  let bar: Progress | undefined;
  let total = 0;
  let done = 0;
  let lastLine = 0;
  const line = (e: ShardEvent) => {
    const drops = Object.entries(e.marker.dropped)
      .map(([r, n]) => `${r} ${n}`)
      .join(", ");
    const what = `${e.name} shard ${e.shard}: ${e.skipped ? "already done" : `${e.marker.in} in, ${e.marker.kept} kept`}`;
    stream.write(`[glmv data] ${done}/${total} steps; ${what}${drops ? ` (dropped ${drops})` : ""}\n`);
  };
  const callbacks: Pick<RunOptions, "onStart" | "onShard"> = {
    onStart: ({ steps }) => {
      total = steps;
      bar = createProgress(steps, { label: "glmv data", stream });
    },
    onShard: (e) => {
      done++;
      if (stream.isTTY) bar?.tick();
      else if (Date.now() - lastLine >= LINE_EVERY_MS || done === total) {
        lastLine = Date.now();
        line(e);
      }
    },
  };
  return { callbacks, stop: () => bar?.stop() };
}
