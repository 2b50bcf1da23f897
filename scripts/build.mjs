#!/usr/bin/env node
// Build the library the package exports into dist/: JS + declarations + maps from tsconfig.build.json, then the
// run-time files tsc does not emit (the worker boot script, the model's JSON assets). Runs on `npm run build`,
// `npm pack` and `npm install` from git (`prepare`); the CLI does not need it (bin/glmv.js runs the sources).
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const tsc = resolveTsc();

/** tsc, or null in an install without devDependencies (`npm ci --omit=dev`), which only needs the CLI. */
function resolveTsc() {
  try {
    return createRequire(import.meta.url).resolve("typescript/bin/tsc");
  } catch (err) {
    if (process.env.npm_command === "ci" || process.env.npm_command === "install") return null;
    throw err;
  }
}

if (tsc === null) {
  console.error(
    "glmv build: skipped (typescript is not installed); the CLI runs from the sources without it",
  );
  process.exit(0);
}

// A clean dist: files of modules since removed must not ship.
rmSync(dist, { recursive: true, force: true });
const built = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
  stdio: "inherit",
});
if (built.status !== 0) {
  console.error("glmv build: tsc reported errors (above); dist/ was not completed");
  process.exit(built.status ?? 1);
}

const copies = [
  "reward/worker-boot.mjs",
  ...readdirSync(join(root, "src/model/assets")).map((name) => `model/assets/${name}`),
];
for (const rel of copies) {
  mkdirSync(dirname(join(dist, rel)), { recursive: true });
  cpSync(join(root, "src", rel), join(dist, rel));
}
