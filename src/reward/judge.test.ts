import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort } from "../../test/helpers/spawn-glmv.ts";
import {
  applyJudge,
  fillTemplate,
  isNumericOrSymbolic,
  JudgeConfig,
  judgeAnswer,
  needsJudge,
  parseJudgeReply,
} from "./judge.ts";
import type { RewardItem, RewardResult } from "./types.ts";

describe("parseJudgeReply", () => {
  it("reads whole verdict tokens, not substrings", () => {
    expect(parseJudgeReply("1.0")).toBe(1);
    expect(parseJudgeReply("0.0")).toBe(0);
    expect(parseJudgeReply(" 1 ")).toBe(1);
    expect(parseJudgeReply("10.0")).toBeNull(); // the released parser reads this as containing "0.0"
    expect(parseJudgeReply("score 0.01")).toBeNull();
    expect(parseJudgeReply("2.0")).toBeNull();
    expect(parseJudgeReply("")).toBeNull();
  });
  it("takes the last verdict after any reasoning, ignoring <think>", () => {
    expect(parseJudgeReply("Answer 1.0 would need 5; they differ. Final: 0.0")).toBe(0);
    expect(parseJudgeReply("<think>maybe 0.0</think>1.0")).toBe(1);
    expect(parseJudgeReply("<think>surely 1.0</think>no verdict")).toBeNull();
  });
});

describe("fillTemplate", () => {
  it("fills placeholders once, never re-reading inserted text", () => {
    const t = "Q: {question} | P: {predict} | L: {label} | {other}";
    expect(fillTemplate(t, { question: "{label}", predict: "$1", label: "gold" })).toBe(
      "Q: {label} | P: $1 | L: gold | {other}",
    );
  });
});

describe("needsJudge", () => {
  const config = JudgeConfig.parse({
    judges: [{ url: "http://127.0.0.1:1/v1/chat/completions", model: "m" }],
  });
  const item = (domain: RewardItem["domain"], answer: string): RewardItem => ({
    id: 1,
    domain,
    response: "",
    answer,
  });
  const wrong = (extracted: string): RewardResult & { stage: string } => ({
    reward: 0,
    correct: false,
    format: "ok",
    extracted,
    timedOut: false,
    stage: "verify",
  });
  it("selects wrong textual answers in judged domains only", () => {
    expect(needsJudge(item("text", "ethanol"), wrong("alcohol"), config)).toBe(true);
    expect(needsJudge(item("math", "ethanol"), wrong("alcohol"), config)).toBe(false);
    expect(needsJudge(item("ocr", "ethanol"), wrong("alcohol"), config)).toBe(false);
  });
  it("never sends numeric or symbolic answers", () => {
    expect(needsJudge(item("text", "12"), wrong("twelve"), config)).toBe(false);
    expect(needsJudge(item("physics", "x^2+1"), wrong("1 plus x squared"), config)).toBe(false);
    expect(needsJudge(item("chemistry", "water"), wrong("3x+2"), config)).toBe(false);
    expect(isNumericOrSymbolic("\\frac{1}{2}")).toBe(true);
    expect(isNumericOrSymbolic("sodium chloride")).toBe(false);
  });
  it("never overrides format failures, anti-hacking, penalties or timeouts", () => {
    expect(needsJudge(item("text", "a"), { ...wrong("b"), stage: "hacking" }, config)).toBe(false);
    expect(needsJudge(item("text", "a"), { ...wrong("b"), format: "no_box" }, config)).toBe(false);
    expect(needsJudge(item("text", "a"), { ...wrong("b"), penalties: ["repetition"] }, config)).toBe(false);
    expect(needsJudge(item("text", "a"), { ...wrong("b"), timedOut: true }, config)).toBe(false);
  });
});

describe("judging over HTTP (a local OpenAI-compatible server)", () => {
  let server: Server;
  let base = "";
  const seen: { auth: string | undefined; body: { model: string; messages: { content: string }[] } }[] = [];
  // Each model name scripts the judge's reply; "broken" answers HTTP 500, "garbage" sends non-JSON.
  const REPLIES: Record<string, string> = {
    yes: "Reasoning... 1.0",
    no: "0.0",
    ten: "10.0",
    cot: "1.0? no. 0.0",
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => {
        raw += c;
      });
      req.on("end", () => {
        const body = JSON.parse(raw) as (typeof seen)[number]["body"];
        seen.push({ auth: req.headers.authorization, body });
        if (req.url !== "/v1/chat/completions" || body.model === "broken") {
          res.writeHead(500).end("fail");
          return;
        }
        if (body.model === "garbage") {
          res.writeHead(200, { "content-type": "application/json" }).end("not json");
          return;
        }
        const content = REPLIES[body.model] ?? "";
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ choices: [{ message: { role: "assistant", content } }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const config = (...models: string[]) =>
    JudgeConfig.parse({
      judges: models.map((model) => ({ url: base, model, apiKey: "k" })),
      timeoutMs: 5000,
    });
  const fields = { question: "What liquid?", predict: "H2O", label: "water" };

  it("sends the filled prompt with a bearer key", async () => {
    seen.length = 0;
    const v = await judgeAnswer(config("yes"), fields);
    expect(v).toEqual({ correct: true, votes: [1], error: null });
    expect(seen[0]!.auth).toBe("Bearer k");
    expect(seen[0]!.body.messages[0]!.content).toContain("Reference answer: water");
    expect(seen[0]!.body.messages[0]!.content).toContain("Model answer: H2O");
  });

  it("votes by strict majority; failed judges never count as correct", async () => {
    expect((await judgeAnswer(config("yes", "yes", "no"), fields)).correct).toBe(true);
    expect((await judgeAnswer(config("yes", "no"), fields)).correct).toBe(false);
    // One failed judge of two cannot turn a 0 into a majority: decided "no", not an error.
    expect(await judgeAnswer(config("ten", "cot"), fields)).toEqual({
      correct: false,
      votes: [null, 0],
      error: null,
    });
  });

  it("failed judges that leave the majority open are a judge error naming each failure, not a 'no'", async () => {
    const v = await judgeAnswer(config("yes", "broken", "garbage"), fields);
    expect(v.correct).toBe(false);
    expect(v.votes).toEqual([1, null, null]);
    expect(v.error).toMatch(/judge 1 \(broken at .*\): HTTP 500/);
    expect(v.error).toMatch(/judge 2 \(garbage at .*\): reply is not JSON/);
    const ten = await judgeAnswer(config("ten"), fields);
    expect(ten.error).toMatch(/judge 0 \(ten\): no verdict in reply "10\.0"/);
  });

  it("retries a 5xx judge before giving up", async () => {
    seen.length = 0;
    const retried = JudgeConfig.parse({ judges: [{ url: base, model: "broken" }], retries: 2 });
    expect((await judgeAnswer(retried, fields)).error).toMatch(/HTTP 500/);
    expect(seen).toHaveLength(3);
  });

  it("an unreachable endpoint (a real closed port) is a judge error after retries, not a throw or a 'no'", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1/chat/completions`;
    const dead = JudgeConfig.parse({ judges: [{ url, model: "m" }], timeoutMs: 2000, retries: 1 });
    const v = await judgeAnswer(dead, fields);
    expect(v).toMatchObject({ correct: false, votes: [null] });
    expect(v.error).toMatch(/ECONNREFUSED/);
    const items: RewardItem[] = [{ id: 1, domain: "text", response: "", answer: "water", question: "q" }];
    const before = { reward: 0, correct: false, format: "ok" as const, timedOut: false, stage: "verify" };
    const [out] = await applyJudge(items, [{ ...before, extracted: "H2O", reason: "no match" }], dead);
    expect(out).toMatchObject({
      reward: 0,
      correct: false,
      stage: "judge_error",
      judgeError: expect.stringMatching(/ECONNREFUSED/),
      reason: expect.stringMatching(/^no match; judge error/),
    });
  });

  it("applyJudge re-decides only eligible items", async () => {
    const items: RewardItem[] = [
      { id: 1, domain: "text", response: "", answer: "water" },
      { id: 2, domain: "math", response: "", answer: "water" },
      { id: 3, domain: "text", response: "", answer: "5" },
    ];
    const base0 = { reward: 0, correct: false, format: "ok" as const, timedOut: false, stage: "verify" };
    const results = [
      { ...base0, extracted: "H2O" },
      { ...base0, extracted: "H2O" },
      { ...base0, extracted: "five" },
    ];
    seen.length = 0;
    const out = await applyJudge(items, results, config("yes"));
    expect(out.map((r) => r.correct)).toEqual([true, false, false]);
    expect(out[0]).toMatchObject({ reward: 1, reason: expect.stringMatching(/judge: correct/) });
    expect(out[1]).toBe(results[1]);
    expect(seen).toHaveLength(1);
  });
});
