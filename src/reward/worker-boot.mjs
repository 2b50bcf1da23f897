// Worker threads run plain Node. From the sources the worker is TypeScript, so tsx's loader is registered first;
// the built package (dist/) ships worker.js but no worker.ts, and loads it as plain JS without tsx.
import { existsSync } from "node:fs";
import { workerData } from "node:worker_threads";

const isTypeScript = (url) => typeof url === "string" && /\.[cm]?ts$/.test(url);

let entry = workerData.entry;
if (isTypeScript(entry) && !existsSync(new URL(entry))) entry = entry.replace(/\.ts$/, ".js");
// A TypeScript `extraVerifiersModule` still needs the loader, whichever worker runs it.
if (isTypeScript(entry) || isTypeScript(workerData.extraVerifiersModule)) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import(entry);
