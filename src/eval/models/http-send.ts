/**
 * One HTTP exchange over node:http(s) with keep-alive agents: the model clients' transport. It costs several times
 * less CPU per request than `fetch` (undici's web streams), which is what keeps 64+ requests in flight on a small
 * machine without the harness becoming the bottleneck (bench/eval.ts).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

const agents = {
  "http:": new HttpAgent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY }),
  "https:": new HttpsAgent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY }),
};

export type HttpExchange = {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
};

/** The reply's status and body text. A refused or dropped connection rejects with the socket error. */
export type HttpReply = { status: number; text: string };

/**
 * @example const { status, text } = await sendHttp({ method: "GET", url: "http://localhost:8000/v1/models" });
 */
export function sendHttp(x: HttpExchange): Promise<HttpReply> {
  const url = new URL(x.url);
  const secure = url.protocol === "https:";
  const send = secure ? httpsRequest : httpRequest;
  const headers: Record<string, string | number> = { ...x.headers };
  if (x.body !== undefined) headers["content-length"] = Buffer.byteLength(x.body);
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: x.method,
        headers,
        agent: agents[secure ? "https:" : "http:"],
        ...(x.signal ? { signal: x.signal } : {}),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
        res.on("aborted", () => reject(new Error("connection closed mid-reply")));
      },
    );
    req.on("error", reject);
    req.end(x.body);
  });
}
