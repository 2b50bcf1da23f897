/**
 * WebDataset input: one `.tar` is one shard; members sharing a key (the name up to its first dot) are one item:
 * media (`<key>.jpg|png|webp|pdf|mp4`, or `<key>.0.jpg` for several), fields from `<key>.json`, the caption from
 * `<key>.txt`.
 */
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import type { CurateItem, CurateMedia } from "../stage.ts";
import { filesFingerprint, type InputShards } from "./input-shards.ts";
import { MEDIA_EXTENSIONS } from "./media.ts";
import { readTar } from "./tar.ts";

/** The tars a folder or a glob (`*`, `?` in the file name) names, in name order. */
export async function listTars(path: string): Promise<string[]> {
  const name = basename(path);
  if (/[*?]/.test(name)) {
    const dir = dirname(path);
    const pattern = new RegExp(
      `^${name
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".")}$`,
    );
    const names = await readdir(dir).catch(() => [] as string[]);
    return names
      .filter((n) => pattern.test(n))
      .sort()
      .map((n) => join(dir, n));
  }
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new GlmvError("bad_input", "no such WebDataset input", { where: path });
  if (!info.isDirectory()) return [path];
  return (await readdir(path))
    .filter((n) => n.endsWith(".tar"))
    .sort()
    .map((n) => join(path, n));
}

/** Split a member name into its key and extension (`a/b.0.jpg` → `a/b`, `0.jpg`). */
function splitName(name: string): { key: string; ext: string } {
  const base = basename(name);
  const dot = base.indexOf(".");
  const prefix = name.slice(0, name.length - base.length);
  return dot < 0
    ? { key: name, ext: "" }
    : { key: prefix + base.slice(0, dot), ext: base.slice(dot + 1).toLowerCase() };
}

function toItem(key: string, members: { ext: string; data: Uint8Array }[], where: string): CurateItem {
  const fields: Record<string, unknown> = {};
  let id = key;
  const media: CurateMedia[] = [];
  for (const { ext, data } of members) {
    const last = ext.split(".").at(-1)!;
    if (ext === "json") {
      const parsed = JSON.parse(Buffer.from(data).toString("utf8")) as Record<string, unknown>;
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
        throw new GlmvError("bad_input", `${key}.json must be an object`, { where });
      const { id: own, media: _names, ...rest } = parsed;
      if (typeof own === "string" || typeof own === "number") id = String(own);
      Object.assign(fields, rest);
    } else if (ext === "txt") fields.caption ??= Buffer.from(data).toString("utf8");
    else if (MEDIA_EXTENSIONS.has(last)) media.push({ name: `${basename(key)}.${ext}`, bytes: data });
  }
  return { id, media, fields };
}

export async function openWebDatasetInput(options: { path: string }, baseDir: string): Promise<InputShards> {
  const path = resolve(baseDir, options.path);
  const tars = await listTars(path);
  if (tars.length === 0)
    throw new GlmvError("bad_input", "no .tar shards match the WebDataset input", { where: path });
  async function* readShard(shard: number): AsyncGenerator<CurateItem> {
    const tarPath = tars[shard]!;
    let key: string | undefined;
    let members: { ext: string; data: Uint8Array }[] = [];
    for await (const entry of readTar(tarPath)) {
      const part = splitName(entry.name);
      if (part.key !== key) {
        if (key !== undefined && members.length) yield toItem(key, members, tarPath);
        key = part.key;
        members = [];
      }
      members.push({ ext: part.ext, data: entry.data });
    }
    if (key !== undefined && members.length) yield toItem(key, members, tarPath);
  }
  return { shardCount: tars.length, readShard, fingerprint: (s) => filesFingerprint([tars[s]!]) };
}
