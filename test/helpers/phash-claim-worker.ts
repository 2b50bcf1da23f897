/**
 * A separate process that claims (id, hash) pairs in a shared PhashIndex file, like one array task of a sharded
 * run: for the cross-task dedup test. Reads `{ path, maxDistance, rows }` as JSON from argv[2]; prints the claims.
 */
import { PhashIndex } from "../../src/curate/image/hash-index.ts";

const { path, maxDistance, rows } = JSON.parse(process.argv[2]!) as {
  path: string;
  maxDistance: number;
  rows: [string, string][];
};
const index = new PhashIndex(path, maxDistance);
const claims = rows.map(([id, hex]) => [id, index.claim(id, BigInt(`0x${hex}`))] as const);
index.close();
process.stdout.write(JSON.stringify(claims));
