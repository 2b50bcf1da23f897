/**
 * Tiny stages and a source for the runner's tests, loaded by pipelines through `modules:` (so worker threads load
 * them too). Each decides by item id and options only, as real stages must.
 */
import { z } from "zod";
import {
  type AnySourceDef,
  type AnyStageDef,
  type CurateItem,
  drop,
  keep,
} from "../../../src/curate/stage.ts";

const indexOf = (item: CurateItem) => Number(/(\d+)$/.exec(item.id)?.[1] ?? 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const toyImages: AnySourceDef = {
  name: "toy-images",
  summary: "Small solid-colour PNGs with captions (test source).",
  options: z.strictObject({ shards: z.int().min(1).default(3), perShard: z.int().min(1).default(4) }),
  shardCount: (o: { shards: number }) => o.shards,
  async *generate(o: { perShard: number }, shard: number) {
    const { default: sharp } = await import("sharp"); // loaded here so item workers never pay for it
    for (let i = 0; i < o.perShard; i++) {
      const n = shard * o.perShard + i;
      const size = 8 + (n % 5) * 4;
      const bytes = await sharp({
        create: { width: size, height: size, channels: 3, background: { r: (n * 37) % 256, g: 80, b: 160 } },
      })
        .png()
        .toBuffer();
      yield {
        id: `toy-${n}`,
        media: [{ name: "0.png", bytes: new Uint8Array(bytes) }],
        fields: { caption: `item ${n}`, n },
      };
    }
  },
};

const dropEvery: AnyStageDef = {
  name: "toy-drop-every",
  summary: "Drops items whose number is a multiple of n (test stage).",
  options: z.strictObject({
    n: z.int().min(1),
    reason: z.string().default("every_nth"),
    delayMs: z.int().default(0),
    /** Time `open` takes (a stage building an index before its first item). */
    openDelayMs: z.int().default(0),
  }),
  async open(o: { n: number; reason: string; delayMs: number; openDelayMs: number }) {
    if (o.openDelayMs) await sleep(o.openDelayMs);
    return {
      async process(item) {
        if (o.delayMs) await sleep(o.delayMs);
        return indexOf(item) % o.n === 0
          ? drop(o.reason, `number ${indexOf(item)} <script>x</script>`)
          : keep(item);
      },
    };
  },
};

const tag: AnyStageDef = {
  name: "toy-tag",
  summary: "Sets fields.tag (test stage).",
  options: z.strictObject({ value: z.string().default("t") }),
  async open(o: { value: string }) {
    return { process: async (item) => keep({ ...item, fields: { ...item.fields, tag: o.value } }) };
  },
};

/** Misbehaves on chosen items: hangs (ignoring its signal), throws, or kills its worker thread. */
const faulty: AnyStageDef = {
  name: "toy-faulty",
  summary: "Hangs, throws or crashes on chosen ids (test stage).",
  options: z.strictObject({
    hang: z.array(z.string()).default([]),
    throw: z.array(z.string()).default([]),
    crash: z.array(z.string()).default([]),
  }),
  async open(o: { hang: string[]; throw: string[]; crash: string[] }) {
    return {
      async process(item) {
        if (o.hang.includes(item.id)) for (;;) {} // a busy loop no signal can stop
        if (o.throw.includes(item.id)) throw new Error(`cannot handle ${item.id}`);
        if (o.crash.includes(item.id)) process.exit(3);
        return keep(item);
      },
    };
  },
};

/** Reads its whole input when it opens (a global view): stamps each item with the total count. */
const countAll: AnyStageDef = {
  name: "toy-count-all",
  summary: "Stamps fields.total with the item count over all shards (test stage).",
  options: z.strictObject({}),
  async open(_o, ctx) {
    let total = 0;
    for await (const _ of ctx.scanInput()) total++;
    return { process: async (item) => keep({ ...item, fields: { ...item.fields, total } }) };
  },
};

const split: AnyStageDef = {
  name: "toy-split",
  summary: "Keeps each item twice (test stage).",
  options: z.strictObject({}),
  async open() {
    return {
      process: async (item) => keep({ ...item, id: `${item.id}#a` }, { ...item, id: `${item.id}#b` }),
    };
  },
};

export const stages = [dropEvery, tag, faulty, countAll, split];
export const sources = [toyImages];
