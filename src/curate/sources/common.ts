/**
 * What every synthesis source shares: the `seed` / `count` / `shardSize` options, which item indices a shard
 * holds, one seeded RNG per item (so an item does not depend on the shard size) and the item id; and, for the
 * sources that write one image per item, its format option and item shape, and the Chromium tab a shard renders in.
 */
import { readdir, readFile } from "node:fs/promises";
import { extname, isAbsolute, join, resolve } from "node:path";
import type { Page } from "playwright-core";
import sharp from "sharp";
import { z } from "zod";
import { launchGuiBrowser } from "../../data/gui-pages.ts";
import { GlmvError } from "../../util/errors.ts";
import { createRng, deriveSeed, type Rng } from "../../util/rng.ts";
import type { CurateItem } from "../stage.ts";

/** The options every source takes: how many items, how many per shard, and the seed they derive from. */
export const SHARDING_OPTIONS = {
  seed: z.number().int().default(0),
  count: z.number().int().positive().default(100),
  shardSize: z.number().int().positive().default(50),
};

/**
 * How many shards `count` items make at `shardSize` per shard.
 * @example shardCountOf({ count: 120, shardSize: 50 }) // 3
 */
export function shardCountOf(o: { count: number; shardSize: number }): number {
  return Math.ceil(o.count / o.shardSize);
}

/**
 * The global item indices of shard `shard` (empty past the last shard).
 * @example shardIndices({ count: 120, shardSize: 50 }, 2) // [100, …, 119]
 */
export function shardIndices(o: { count: number; shardSize: number }, shard: number): number[] {
  if (!Number.isInteger(shard) || shard < 0)
    throw new GlmvError("bad_argument", `shard must be a whole number ≥ 0, got ${shard}`, {
      where: "shardIndices",
    });
  const start = shard * o.shardSize;
  const end = Math.min(o.count, start + o.shardSize);
  return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
}

/** The RNG of one item: a function of (source, seed, index) alone, so shard size and order never change it. */
export function itemRng(source: string, seed: number, index: number, attempt = 0): Rng {
  return createRng(deriveSeed(source, seed, index, attempt));
}

/** `<source>-<shard>-<index>` with the global index: stable across reruns and unique across shards. */
export function itemId(source: string, shard: number, index: number): string {
  return `${source}-${shard}-${index}`;
}

/** The `format` option of a source that writes one image per item. */
export const IMAGE_FORMAT_OPTION = z.enum(["png", "jpeg"]).default("png");
export type ImageFormat = z.infer<typeof IMAGE_FORMAT_OPTION>;

/** An item of `source` with its one image (`0.png`, or `0.jpg` for JPEG) and `fields` after `source`. */
export function imageItem(
  source: string,
  shard: number,
  index: number,
  image: { format: ImageFormat; bytes: Uint8Array },
  fields: Record<string, unknown>,
): CurateItem {
  const name = `0.${image.format === "png" ? "png" : "jpg"}`;
  return {
    id: itemId(source, shard, index),
    media: [{ name, bytes: new Uint8Array(image.bytes) }],
    fields: { source, ...fields },
  };
}

/**
 * The items `render` makes in one Chromium tab: one browser per shard, closed however the shard ends (done, failed,
 * or stopped early by the runner).
 */
export async function* inShardTab<T>(
  chromium: string,
  render: (tab: Page) => AsyncIterable<T>,
): AsyncIterable<T> {
  const browser = await launchGuiBrowser(chromium);
  try {
    yield* render(await browser.context.newPage());
  } finally {
    await browser.close();
  }
}

/** A screenshot of the whole viewport of `tab` (no animations, no caret), as PNG or re-encoded as JPEG (quality 90). */
export async function screenshotAs(tab: Page, format: ImageFormat): Promise<Uint8Array> {
  const shot = await tab.screenshot({ type: "png", animations: "disabled", caret: "hide" });
  return format === "png" ? shot : await sharp(shot).jpeg({ quality: 90 }).toBuffer();
}

/** A pixel coordinate measured in the page, rounded to 1/100 px as the items store it. */
export const round2 = (v: number): number => Math.round(v * 100) / 100;

/** An option path resolved against the pipeline file's folder. */
export function resolveOptionPath(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/**
 * The files of a folder whose extension is one of `exts` (lower case, with the dot), sorted by name so the
 * same folder always gives the same order; a missing or empty folder is a `bad_config` naming the option.
 */
export async function listFolder(folder: string, exts: readonly string[], option: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (e) {
    throw new GlmvError("bad_config", `cannot read the folder ${folder}`, { where: option, cause: e });
  }
  const files = names
    .filter((n) => exts.includes(extname(n).toLowerCase()))
    .sort()
    .map((n) => join(folder, n));
  if (files.length === 0)
    throw new GlmvError("bad_config", `no ${exts.join("/")} files in ${folder}`, { where: option });
  return files;
}

/** Non-empty trimmed lines of a text file (a word list, a file of LaTeX formulas); `#` lines are comments. */
export async function readLines(path: string, option: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new GlmvError("bad_config", `cannot read ${path}`, { where: option, cause: e });
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  if (lines.length === 0) throw new GlmvError("bad_config", `${path} has no lines`, { where: option });
  return lines;
}

/** Escape text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** The GLM-V answer wrapper: the final answer between the box tokens. */
export function glmBox(answer: string): string {
  return `<|begin_of_box|>${answer}<|end_of_box|>`;
}

/** A one-turn SFT conversation: the user's image and question, the assistant's answer. */
export function qaMessages(question: string, response: string): unknown[] {
  return [
    { role: "user", content: [{ type: "image" }, { type: "text", text: question }] },
    { role: "assistant", content: response },
  ];
}
