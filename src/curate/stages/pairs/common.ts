/** Small helpers the image–text pair stages share. */
import { createHash } from "node:crypto";
import { isAbsolute, join, resolve } from "node:path";
import type { CurateItem } from "../../stage.ts";

/** A copy of the item with fields added or replaced (the media bytes are shared, so decode caches still hit). */
export const withFields = (item: CurateItem, fields: Record<string, unknown>): CurateItem => ({
  ...item,
  fields: { ...item.fields, ...fields },
});

/** The item's text in `field` ("" when absent or not a string). */
export const textField = (item: CurateItem, field: string): string => {
  const value = item.fields[field];
  return typeof value === "string" ? value : "";
};

/** Where a stage's index file lives: the option resolved against the pipeline folder, or `stateDir/<file>`. */
export const indexPath = (
  option: string | undefined,
  ctx: { baseDir: string; stateDir: string },
  file: string,
) =>
  option === undefined
    ? join(ctx.stateDir, file)
    : isAbsolute(option)
      ? option
      : resolve(ctx.baseDir, option);

/**
 * A number in [0, 1) from a string, the same on every machine and run: how stages make "random" choices that a
 * rerun repeats.
 * @example
 * unitHash(`${seed}:${item.id}`) < 0.3
 */
export function unitHash(key: string): number {
  const digest = createHash("sha256").update(key).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
