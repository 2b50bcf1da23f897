/**
 * `npm run bench -- NAME [ARGS…]`: run the bench `bench/NAME.ts` with its arguments (the same as `npm run
 * bench:NAME -- ARGS…`); without a name, list the benches.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const NOT_BENCHES = new Set(["run", "lib"]);
const benches = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && !NOT_BENCHES.has(f.slice(0, -3)))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name) {
  console.log(`benches: ${benches.join(", ")}\nusage: npm run bench -- NAME [ARGS…]`);
  process.exit(0);
}
const file = join(here, `${name}.ts`);
if (NOT_BENCHES.has(name) || !existsSync(file)) {
  console.error(`no bench "${name}" (benches: ${benches.join(", ")})`);
  process.exit(2);
}
const run = spawnSync(process.execPath, ["--import", "tsx", file, ...args], { stdio: "inherit" });
process.exit(run.status ?? 1);
