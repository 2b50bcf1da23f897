/**
 * Tar files as lists of named byte entries (tar-stream), written so the same entries always give the same bytes
 * (fixed mtime, mode and owner): a rerun after a crash must reproduce a shard byte for byte.
 */
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { GlmvError } from "../../util/errors.ts";

export type TarEntry = { name: string; data: Uint8Array };

const EPOCH = new Date(0);

/**
 * The bytes of a tar holding `entries` in order.
 * @example const bytes = await packTar([{ name: "a.json", data: Buffer.from("{}") }]);
 */
export async function packTar(entries: Iterable<TarEntry>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const e of entries) {
    const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        { name: e.name, size: data.length, mtime: EPOCH, mode: 0o644, uid: 0, gid: 0, uname: "", gname: "" },
        data,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/**
 * The file entries of the tar at `path`, in order (folders and links skipped).
 * @example for await (const { name, data } of readTar("shard-000.tar")) console.log(name, data.length);
 */
export async function* readTar(path: string): AsyncGenerator<TarEntry> {
  const extract = tar.extract();
  const feeding = pipeline(createReadStream(path), extract).catch((cause: unknown) => {
    extract.destroy(cause as Error);
  });
  try {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      if (entry.header.type === "file" || entry.header.type === "contiguous-file")
        yield { name: entry.header.name, data: new Uint8Array(Buffer.concat(chunks)) };
    }
  } catch (cause) {
    throw new GlmvError("bad_input", `cannot read tar: ${(cause as Error).message}`, { where: path, cause });
  } finally {
    extract.destroy();
    await feeding;
  }
}
