// Worker threads run plain Node: register tsx's loader here, then load the TypeScript worker it names.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
