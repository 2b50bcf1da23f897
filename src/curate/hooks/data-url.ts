/** Images as `data:` URLs, the form OpenAI-compatible servers (vLLM, Infinity, SGLang) accept inline. */

/** The MIME type of image bytes from their magic numbers, or `application/octet-stream`. */
export function sniffImageMime(bytes: Uint8Array): string {
  const b = bytes;
  if (b[0] === 0xff && b[1] === 0xd8) return "image/jpeg";
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "image/png";
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return "image/gif";
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45)
    return "image/webp";
  if (b[0] === 0x42 && b[1] === 0x4d) return "image/bmp";
  return "application/octet-stream";
}

/**
 * Image bytes as a base64 `data:` URL.
 * @example
 * imageDataUrl(jpegBytes) // "data:image/jpeg;base64,/9j/4AAQ…"
 */
export const imageDataUrl = (bytes: Uint8Array): string =>
  `data:${sniffImageMime(bytes)};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")}`;

/** The bytes of a base64 `data:` URL, or undefined if `url` is not one. */
export function decodeDataUrl(url: string): { mime: string; bytes: Uint8Array } | undefined {
  const m = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  if (!m) return undefined;
  return { mime: m[1] ?? "application/octet-stream", bytes: new Uint8Array(Buffer.from(m[2]!, "base64")) };
}
