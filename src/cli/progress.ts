/**
 * A progress bar for long CLI runs: drawn with cli-progress on an interactive terminal, silent otherwise (pipes,
 * CI logs, tests), so a command can always report progress without checking where its output goes.
 */
import cliProgress from "cli-progress";

export type Progress = {
  /** Count `n` more units as done (default 1). */
  tick: (n?: number) => void;
  /** Finish the bar (idempotent). */
  stop: () => void;
};

export type ProgressOptions = {
  /** Shown before the bar, e.g. "scoring". */
  label?: string;
  /** Where the bar is drawn; default stderr so stdout stays clean for results. */
  stream?: NodeJS.WriteStream;
};

const SILENT: Progress = { tick: () => {}, stop: () => {} };

/**
 * @example
 * const bar = createProgress(items.length, { label: "scoring" });
 * for (const item of items) { work(item); bar.tick(); }
 * bar.stop();
 */
export function createProgress(total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (!stream.isTTY || total <= 0) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${opts.label ?? "progress"} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 200,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let stopped = false;
  return {
    tick: (n = 1) => {
      if (!stopped) bar.increment(n);
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
