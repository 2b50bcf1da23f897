/**
 * A loaded checkpoint that answers chat requests one batch at a time (`openChatModel`). Requests are prepared
 * (template, media) as they arrive and queued; the queue runs one batch at a time on one set of parameters.
 *
 * Batching: greedy requests (temperature 0) with the same token limit and budget run together, up to `maxBatch`
 * rows, because a greedy row's output does not depend on its neighbours. A sampled request runs alone: the
 * generator draws row r from a stream seeded by (seed, r), so batching it would make its sample depend on its slot.
 * Shapes are static: the row count is rounded up to a power of two (spare rows repeat the first request, which
 * stops with it), the prompt length up to a multiple of `promptBucket`; each shape compiles once and the last few
 * generators are kept.
 */
import { tree } from "@jax-js/jax";
import { GlmvError } from "../util/errors.ts";
import {
  type ChatCore,
  type ChatRequest,
  type ChatResult,
  chatStyleFor,
  generateChatBatch,
  type LoadedModel,
  loadModelDir,
  type MediaOptions,
  type PreparedChat,
  prepareChat,
  tokenLimit,
} from "./chat-generate.ts";
import type { ChatStyle } from "./chat-template.ts";
import { createGenerator, type Generator } from "./generate.ts";
import { chosenBackend } from "./trainer-core-native.ts";

export type ChatModelOptions = MediaOptions & {
  /** The chat template and force-answer style; default from the config (`chatStyleFor`). */
  style?: ChatStyle | undefined;
  /** Most greedy requests in one batch (default 8; 1 = one request at a time). */
  maxBatch?: number | undefined;
  /** Prompt lengths are rounded up to a multiple of this, so nearby lengths share a compiled shape (default 64). */
  promptBucket?: number | undefined;
  /** Compiled generators kept (default 8). */
  keepGenerators?: number | undefined;
};

/** A checkpoint ready to answer chats. */
export type ChatModel = ChatCore & {
  /** Queue a request; resolves when its batch is done. */
  generate(request: ChatRequest): Promise<ChatResult>;
  /** Requests waiting or running. */
  pending(): number;
  /** Batches run, the requests they answered (spare rows not counted), and compilations (traces) so far. */
  stats(): { batches: number; requests: number; compiles: number };
  /** Finish queued requests, then free the parameters and compiled shapes. */
  close(): Promise<void>;
};

type Waiting = { prepared: PreparedChat; resolve: (r: ChatResult) => void; reject: (e: unknown) => void };

/**
 * Load a checkpoint folder as a chat model (the tensor engine must be initialised).
 * @example
 * const model = await openChatModel("runs/x/ckpt-100");
 * const { text } = await model.generate({ messages: [{ role: "user", content: "Hi" }], maxTokens: 32 });
 * await model.close();
 */
export async function openChatModel(dir: string, opts: ChatModelOptions = {}): Promise<ChatModel> {
  return chatModelOf(await loadModelDir(dir), opts);
}

/** A chat model over already loaded parameters (owned from now on: `close` disposes them). */
export function chatModelOf(loaded: LoadedModel, opts: ChatModelOptions = {}): ChatModel {
  const { cfg, params, tok } = loaded;
  const media: MediaOptions = {
    ...(opts.minPixels !== undefined ? { minPixels: opts.minPixels } : {}),
    ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}),
  };
  const core: ChatCore = { cfg, tok, style: chatStyleFor(opts.style, cfg), media };
  const maxBatch = Math.max(1, opts.maxBatch ?? 8);
  const bucket = Math.max(1, opts.promptBucket ?? 64);
  const generators = new GeneratorCache(core, Math.max(1, opts.keepGenerators ?? 8));
  const queue: Waiting[] = [];
  let running = false;
  let preparing = 0;
  let closed = false;
  const stats = { batches: 0, requests: 0 };

  const pump = async () => {
    if (running) return;
    running = true;
    try {
      while (queue.length > 0) {
        const group = takeGroup(queue, maxBatch);
        const live = group.filter((w) => !w.prepared.request.signal?.aborted);
        for (const w of group) if (!live.includes(w)) w.reject(abortError(w.prepared.request.signal));
        if (live.length > 0) await runGroup(live);
      }
    } finally {
      running = false;
    }
  };

  const runGroup = async (group: Waiting[]) => {
    const rows = group.map((w) => w.prepared);
    const b = Math.min(nextPowerOfTwo(rows.length), Math.max(maxBatch, rows.length));
    while (rows.length < b) rows.push({ ...rows[0]!, request: { ...rows[0]!.request, onText: undefined } });
    const promptLen = Math.ceil(Math.max(...rows.map((r) => r.ids.length)) / bucket) * bucket;
    const gen = generators.get(b, promptLen, tokenLimit(rows[0]!));
    stats.batches++;
    stats.requests += group.length;
    try {
      const results = await generateChatBatch(core, params, gen, rows);
      group.forEach((w, i) => {
        w.resolve(results[i]!);
      });
    } catch (e) {
      for (const w of group) w.reject(e);
    }
  };

  return {
    ...core,
    async generate(request) {
      if (closed) throw new GlmvError("bad_argument", "the chat model is closed");
      preparing++;
      let prepared: PreparedChat;
      try {
        prepared = await prepareChat(core, request);
      } finally {
        preparing--;
      }
      if (request.signal?.aborted) throw abortError(request.signal);
      const result = new Promise<ChatResult>((resolve, reject) => queue.push({ prepared, resolve, reject }));
      void pump();
      return result;
    },
    pending: () => queue.length + preparing + (running ? 1 : 0),
    stats: () => ({ ...stats, compiles: generators.compiles() }),
    async close() {
      if (closed) return;
      closed = true;
      // requests already accepted still get their answers
      while (running || preparing > 0 || queue.length > 0) await new Promise((r) => setTimeout(r, 10));
      generators.dispose();
      tree.dispose(params);
    },
  };
}

/** The head request and, when it is greedy, the queued requests that may share its batch (removed from `queue`). */
function takeGroup(queue: Waiting[], maxBatch: number): Waiting[] {
  const head = queue.shift()!;
  const key = batchKey(head.prepared);
  if (key === undefined) return [head];
  const group = [head];
  for (let i = 0; i < queue.length && group.length < maxBatch; ) {
    if (batchKey(queue[i]!.prepared) === key) group.push(...queue.splice(i, 1));
    else i++;
  }
  return group;
}

/** Requests with the same key may share a batch; undefined for sampled requests (they run alone). */
function batchKey(p: PreparedChat): string | undefined {
  const r = p.request;
  if ((r.temperature ?? 1) !== 0) return undefined;
  const budget = p.forced ? `${r.thinkBudget}/${r.answerTokens ?? 0}/${p.forced.join(",")}` : "-";
  return `${r.maxTokens}|${budget}`;
}

const nextPowerOfTwo = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

const abortError = (signal: AbortSignal | undefined) =>
  signal?.reason instanceof Error ? signal.reason : new GlmvError("bad_input", "request aborted");

const traceCount = (g: Generator) => g.traces().prefill + g.traces().decode;

/** Compiled generators by shape, least recently used dropped first. */
class GeneratorCache {
  readonly #core: ChatCore;
  readonly #keep: number;
  readonly #byShape = new Map<string, Generator>();
  #evictedCompiles = 0;

  constructor(core: ChatCore, keep: number) {
    this.#core = core;
    this.#keep = keep;
  }

  get(batchSize: number, promptLen: number, maxNewTokens: number): Generator {
    const key = `${batchSize}x${promptLen}+${maxNewTokens}`;
    let gen = this.#byShape.get(key);
    if (gen) this.#byShape.delete(key);
    else {
      // the backend a trainer core without a setting would pick: GLMV_BACKEND, else native
      const backend = chosenBackend(undefined);
      gen = createGenerator(this.#core.cfg, { batchSize, promptLen, maxNewTokens }, { backend });
    }
    this.#byShape.set(key, gen); // most recent last
    while (this.#byShape.size > this.#keep) {
      const [oldest, old] = this.#byShape.entries().next().value!;
      this.#byShape.delete(oldest);
      this.#evictedCompiles += traceCount(old);
      old.dispose();
    }
    return gen;
  }

  /** Traces of every generator made, evicted ones included. */
  compiles(): number {
    return [...this.#byShape.values()].reduce((a, g) => a + traceCount(g), this.#evictedCompiles);
  }

  dispose(): void {
    for (const gen of this.#byShape.values()) gen.dispose();
    this.#byShape.clear();
  }
}
