/** Exact-duplicate identity of media: a SHA-256 over the bytes. */
import { createHash } from "node:crypto";

/**
 * SHA-256 of the bytes as 64 hex digits.
 * @example
 * contentHash(item.media[0].bytes) === contentHash(copy.media[0].bytes)
 */
export const contentHash = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
