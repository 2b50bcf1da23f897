/**
 * Build a file once across worker threads and processes (array tasks sharing a state folder): whoever creates
 * `<path>.lock` builds while the others poll for the result. The builder touches the lock every few seconds; a lock
 * left untouched for `STALE_LOCK_MS`, or naming a process of this host that is gone, belongs to a killed builder and
 * is taken over (a rerun after `kill -9` does not wait out the heartbeat). Builds must be deterministic
 * and written atomically: in the rare race where two waiters take over the same stale lock both build, and the
 * second rename writes what the first wrote.
 */
import { mkdir, open, readFile, rm, stat, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { GlmvError } from "../../util/errors.ts";

/** A lock untouched this long was left by a killed builder; a live one is touched every `LOCK_BEAT_MS`. */
export const STALE_LOCK_MS = 30_000;
const LOCK_BEAT_MS = 5_000;
const LOCK_POLL_MS = 200;

export type BuildOnceSpec<T> = {
  /** The file that is built (the lock is beside it). */
  path: string;
  /** What is at `path` when it is current, else null (missing, unreadable, built from other input). */
  load: () => Promise<T | null>;
  /** Build and write `path` atomically (temp file, then rename); return what `load` would now give. */
  build: () => Promise<T>;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lock, created exclusively and naming its holder (`host pid`), or null when another builder holds it. */
async function tryLock(lock: string) {
  const handle = await open(lock, "wx").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "EEXIST") return null;
    throw new GlmvError("io_error", `cannot create the build lock: ${e.message}`, { where: lock, cause: e });
  });
  await handle?.writeFile(`${hostname()} ${process.pid}\n`);
  return handle;
}

/** Whether the lock's holder is gone: untouched past `STALE_LOCK_MS`, or a process of this host that has exited. */
async function holderGone(lock: string): Promise<boolean> {
  const touched = await stat(lock).then(
    (st) => st.mtimeMs,
    () => 0,
  );
  if (Date.now() - touched > STALE_LOCK_MS) return true;
  const [host, pid] = (await readFile(lock, "utf8").catch(() => "")).trim().split(" ");
  if (host !== hostname() || !pid || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * The current content of `spec.path`, built first by exactly one caller when it is missing or stale.
 * @example
 * const index = await buildOnce({ path, load: () => readIndex(path), build: () => writeIndex(path) });
 */
export async function buildOnce<T>(spec: BuildOnceSpec<T>): Promise<T> {
  const lock = `${spec.path}.lock`;
  await mkdir(dirname(spec.path), { recursive: true });
  for (;;) {
    const current = await spec.load();
    if (current !== null) return current;
    const handle = await tryLock(lock);
    if (!handle) {
      if (await holderGone(lock)) await rm(lock, { force: true });
      else await sleep(LOCK_POLL_MS);
      continue;
    }
    const beat = setInterval(() => {
      const now = new Date();
      utimes(lock, now, now).catch(() => {});
    }, LOCK_BEAT_MS);
    try {
      // Another builder may have finished between our look and our lock.
      return (await spec.load()) ?? (await spec.build());
    } finally {
      clearInterval(beat);
      await handle.close();
      await rm(lock, { force: true });
    }
  }
}
