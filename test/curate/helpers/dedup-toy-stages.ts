/**
 * A toy stage for the dedup run tests, loaded by pipelines through `modules:`: it delays the items of one shard
 * (and optionally every other item), so shards reach the next stage in a chosen order.
 */
import { z } from "zod";
import { type AnyStageDef, keep } from "../../../src/curate/stage.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const delayShard: AnyStageDef = {
  name: "toy-delay-shard",
  summary: "Delays the items of one shard by ms, the others by othersMs (test stage).",
  options: z.strictObject({
    shard: z.int().default(0),
    ms: z.int().min(0),
    othersMs: z.int().min(0).default(0),
  }),
  async open(o: { shard: number; ms: number; othersMs: number }) {
    return {
      async process(item, { shard }) {
        await sleep(shard === o.shard ? o.ms : o.othersMs);
        return keep(item);
      },
    };
  },
};

export const stages = [delayShard];
