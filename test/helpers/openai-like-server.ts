/**
 * A real local HTTP server speaking the OpenAI-compatible APIs the curation hooks call, answering deterministically:
 * - `POST /v1/embeddings`: texts and images in one space. The first dimensions are colours (`COLOURS`): an image
 *   scores each colour by how close its mean RGB is to it, a text counts the colour words it names; the rest is a
 *   hashed bag of words for texts. So "a red square" is nearer a red image than a blue one. Images come as data-URL
 *   strings in `input` (Infinity's shape) or as `image_url` parts in vLLM's chat-style `messages`.
 * - `POST /v1/chat/completions`: answers with a rule the test sets (by default it names the image's colour).
 * Tests can make the next N requests fail with a status, and read every request body it got.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";

export const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 30],
  green: [30, 180, 40],
  blue: [30, 50, 220],
  yellow: [235, 220, 40],
  black: [10, 10, 10],
  white: [245, 245, 245],
};
const COLOUR_NAMES = Object.keys(COLOURS);
const WORD_DIMS = 32;
export const EMBEDDING_DIM = COLOUR_NAMES.length + WORD_DIMS;

/** What the chat rule sees: the request's text parts joined, its images decoded to their mean colour name. */
export type ChatRequestView = { text: string; imageColours: string[]; body: Record<string, unknown> };
/** A chat rule answers with content (null: the model said nothing) or an HTTP status to fail with. */
export type ChatRule = (req: ChatRequestView) => string | null | { status: number };

export type OpenAiLikeServer = {
  /** The API base, `http://127.0.0.1:PORT/v1`. */
  url: string;
  /** Every request body received, by path, in arrival order. */
  requests: { path: string; body: Record<string, unknown> }[];
  /** The next `count` requests (any path) answer `status` with an error body. */
  failNext(count: number, status: number): void;
  setChatRule(rule: ChatRule): void;
  close(): Promise<void>;
};

async function meanRgb(bytes: Uint8Array): Promise<[number, number, number]> {
  const { channels } = await sharp(bytes).removeAlpha().toColourspace("srgb").stats();
  return [channels[0]!.mean, channels[1]!.mean, channels[2]!.mean];
}

/** The nearest colour name to an RGB mean. */
export function nearestColour(rgb: [number, number, number]): string {
  let best = COLOUR_NAMES[0]!;
  let bestD = Number.POSITIVE_INFINITY;
  for (const name of COLOUR_NAMES) {
    const c = COLOURS[name]!;
    const d = (c[0] - rgb[0]) ** 2 + (c[1] - rgb[1]) ** 2 + (c[2] - rgb[2]) ** 2;
    if (d < bestD) [best, bestD] = [name, d];
  }
  return best;
}

async function embedImage(bytes: Uint8Array): Promise<number[]> {
  const rgb = await meanRgb(bytes);
  const v = new Array<number>(EMBEDDING_DIM).fill(0);
  COLOUR_NAMES.forEach((name, i) => {
    const c = COLOURS[name]!;
    const d2 = (c[0] - rgb[0]) ** 2 + (c[1] - rgb[1]) ** 2 + (c[2] - rgb[2]) ** 2;
    v[i] = Math.exp(-d2 / (2 * 60 ** 2));
  });
  return v;
}

function embedText(text: string): number[] {
  const v = new Array<number>(EMBEDDING_DIM).fill(0);
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    const colour = COLOUR_NAMES.indexOf(word);
    if (colour >= 0) v[colour]! += 1;
    else {
      let h = 0;
      for (const ch of word) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
      v[COLOUR_NAMES.length + (h % WORD_DIMS)]! += 0.25;
    }
  }
  return v;
}

function dataUrlBytes(url: string): Uint8Array | undefined {
  const m = /^data:image\/[^;,]+;base64,(.*)$/s.exec(url);
  return m ? new Uint8Array(Buffer.from(m[1]!, "base64")) : undefined;
}

type Part = { type?: string; text?: string; image_url?: { url?: string } };
const partsOf = (body: Record<string, unknown>): Part[] =>
  ((body.messages as { content: string | Part[] }[] | undefined) ?? []).flatMap((m) =>
    typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content,
  );

async function embeddings(body: Record<string, unknown>): Promise<number[][]> {
  if (Array.isArray(body.messages)) {
    const parts = partsOf(body);
    const image = parts.find((p) => p.type === "image_url");
    if (image) {
      const bytes = dataUrlBytes(image.image_url?.url ?? "");
      if (!bytes) throw new Error("image_url is not a data URL");
      return [await embedImage(bytes)];
    }
    return [embedText(parts.map((p) => p.text ?? "").join(" "))];
  }
  const inputs = typeof body.input === "string" ? [body.input] : (body.input as string[]);
  return Promise.all(
    inputs.map((s) => {
      const bytes = dataUrlBytes(s);
      return bytes ? embedImage(bytes) : embedText(s);
    }),
  );
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

/**
 * Start the server on a free port of 127.0.0.1.
 * @example
 * const api = await startOpenAiLikeServer(); try { … hook: { url: api.url, model: "clip" } … } finally { await api.close(); }
 */
export async function startOpenAiLikeServer(): Promise<OpenAiLikeServer> {
  const requests: OpenAiLikeServer["requests"] = [];
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  let chatRule: ChatRule = ({ imageColours }) =>
    imageColours.length ? `A ${imageColours.join(" and ")} image.` : "No image.";

  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? "").split("?")[0]!;
      const body = req.method === "POST" ? await readBody(req) : {};
      requests.push({ path, body });
      if (failures.count > 0) {
        failures.count--;
        return send(res, failures.status, { error: { message: `planned failure ${failures.status}` } });
      }
      if (path === "/v1/embeddings") {
        const vectors = await embeddings(body);
        return send(res, 200, {
          object: "list",
          model: body.model,
          data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
        });
      }
      if (path === "/v1/chat/completions") {
        const parts = partsOf(body);
        const imageColours = await Promise.all(
          parts
            .filter((p) => p.type === "image_url")
            .map(async (p) => nearestColour(await meanRgb(dataUrlBytes(p.image_url?.url ?? "")!))),
        );
        const text = parts
          .filter((p) => p.type === "text")
          .map((p) => p.text ?? "")
          .join("\n");
        const answer = chatRule({ text, imageColours, body });
        if (answer !== null && typeof answer === "object")
          return send(res, answer.status, { error: { message: "rule failure" } });
        return send(res, 200, {
          id: "chatcmpl-test",
          object: "chat.completion",
          model: body.model,
          choices: [{ index: 0, message: { role: "assistant", content: answer }, finish_reason: "stop" }],
        });
      }
      send(res, 404, { error: { message: `no route ${path}` } });
    })().catch((e: Error) => send(res, 400, { error: { message: e.message } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    failNext: (count, status) => {
      failures = { count, status };
    },
    setChatRule: (rule) => {
      chatRule = rule;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
