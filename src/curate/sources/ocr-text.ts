/**
 * Text for synthetic OCR documents: paragraphs of Latin or CJK (Simplified Chinese) words from a small shipped
 * vocabulary (or a user's word list), with numbers, dates and punctuation, kept as tokens with their character
 * offsets so the renderer can measure each word. Pure: the same RNG state gives the same text.
 */
import type { Rng } from "../../util/rng.ts";

export const LATIN_WORDS = (
  "the of and to in is that for it as was with on be by at this are from or have an they which one you had " +
  "not but what all were when we there can more if no out so said time up about into than them only other new " +
  "some could these two may first then do any like my now over such our man me even most made after also did " +
  "many before must through back years where much your way well down should because each just those people " +
  "how too little state good very make world still own see men work long get here between both life being under " +
  "never day same another know while last might us great old year off come since against go came right used " +
  "take three states himself few house use during without again place around however home small found thought " +
  "went say part once general high upon school every does got united left number course war until always away " +
  "something fact though water less public put think almost hand enough far took head yet government system " +
  "better set told nothing night end why called didn eyes find going look asked later knew point next program " +
  "city business give group toward young days let room president side social given present several order " +
  "national possible rather second face per among form important often things looked early white case large " +
  "invoice receipt total amount payment account report section table figure chapter summary contract address " +
  "telephone customer delivery schedule quantity price balance signature approved department reference"
).split(" ");

export const CJK_WORDS = (
  "我们 他们 时间 问题 工作 国家 发展 经济 社会 学生 老师 学校 公司 市场 技术 研究 数据 系统 文化 历史 " +
  "城市 人民 政府 企业 产品 服务 管理 信息 科学 教育 环境 能力 方法 结果 过程 需要 可以 已经 因为 所以 " +
  "但是 如果 通过 进行 提高 增加 包括 成为 开始 认为 表示 部分 关系 情况 条件 标准 计划 项目 内容 活动 " +
  "中国 世界 北京 上海 今天 明天 去年 重要 主要 不同 一定 非常 特别 完全 基本 实际 报告 合同 地址 电话 " +
  "客户 价格 数量 金额 日期 签名 部门 说明 图表 章节 文件 资料 会议 决定 建设 网络 模型 图像 文字 识别"
).split(" ");

const LATIN_PUNCT = [",", ",", ";", ":"];

/** A paragraph as tokens (a word with any punctuation attached) and its text (tokens joined for its script). */
export type TextParagraph = {
  script: "latin" | "cjk";
  tokens: string[];
  text: string;
  offsets: [number, number][];
};

/** Character ranges of tokens joined by `sep` in a string. */
function joinTokens(tokens: string[], sep: string): { text: string; offsets: [number, number][] } {
  const offsets: [number, number][] = [];
  let text = "";
  for (const t of tokens) {
    if (text !== "") text += sep;
    offsets.push([text.length, text.length + t.length]);
    text += t;
  }
  return { text, offsets };
}

/** A number, a price, a date or a code: what documents are full of and OCR must read exactly. */
function numberToken(rng: Rng): string {
  switch (rng.int(0, 3)) {
    case 0:
      return String(rng.int(1, 9999));
    case 1:
      return `${rng.int(1, 999)}.${String(rng.int(0, 99)).padStart(2, "0")}`;
    case 2:
      return `${rng.int(1990, 2030)}-${String(rng.int(1, 12)).padStart(2, "0")}-${String(rng.int(1, 28)).padStart(2, "0")}`;
    default:
      return `${rng.pick(["A", "B", "K", "X"])}${rng.int(100, 9999)}`;
  }
}

function latinSentence(rng: Rng, words: readonly string[]): string[] {
  const n = rng.int(4, 13);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let w = rng.float() < 0.1 ? numberToken(rng) : rng.pick(words);
    if (i === 0) w = w.charAt(0).toUpperCase() + w.slice(1);
    if (i > 0 && i < n - 1 && rng.float() < 0.08) w += rng.pick(LATIN_PUNCT);
    out.push(w);
  }
  out[n - 1] += rng.pick([".", ".", ".", "?", "!"]);
  return out;
}

function cjkSentence(rng: Rng, words: readonly string[]): string[] {
  const n = rng.int(4, 12);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    // Never two numbers in a row: without spaces they would read as one.
    const afterNumber = i > 0 && /\d$/.test(out[i - 1]!);
    let w = !afterNumber && rng.float() < 0.08 ? numberToken(rng) : rng.pick(words);
    if (i > 0 && i < n - 1 && rng.float() < 0.12) w += "，";
    out.push(w);
  }
  out[n - 1] += rng.pick(["。", "。", "？", "！"]);
  return out;
}

/** A vocabulary: the shipped word lists, or a user's list split by script (any CJK character makes a word CJK). */
export type Vocabulary = { latin: readonly string[]; cjk: readonly string[] };
export const DEFAULT_VOCABULARY: Vocabulary = { latin: LATIN_WORDS, cjk: CJK_WORDS };
const CJK_CHAR = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/;

/** Split a user's word list into Latin and CJK words, falling back to the shipped list for a missing script. */
export function vocabularyFrom(lines: readonly string[]): Vocabulary {
  const words = lines.flatMap((l) => l.split(/\s+/)).filter(Boolean);
  const cjk = words.filter((w) => CJK_CHAR.test(w));
  const latin = words.filter((w) => !CJK_CHAR.test(w));
  return { latin: latin.length ? latin : LATIN_WORDS, cjk: cjk.length ? cjk : CJK_WORDS };
}

/**
 * A paragraph of 1–4 sentences (a title is one short sentence without the final mark).
 * @example makeParagraph(createRng(1), "latin", DEFAULT_VOCABULARY).text // "Many people left the house. …"
 */
export function makeParagraph(
  rng: Rng,
  script: "latin" | "cjk",
  vocab: Vocabulary,
  kind: "title" | "body" = "body",
): TextParagraph {
  const sentence = script === "latin" ? latinSentence : cjkSentence;
  const words = script === "latin" ? vocab.latin : vocab.cjk;
  let tokens: string[];
  if (kind === "title") {
    tokens = sentence(rng, words).slice(0, rng.int(2, 5));
    tokens[tokens.length - 1] = tokens.at(-1)!.replace(/[.?!。？！，,;:]$/, "");
  } else {
    tokens = Array.from({ length: rng.int(1, 4) }, () => sentence(rng, words)).flat();
  }
  const { text, offsets } = joinTokens(tokens, script === "latin" ? " " : "");
  return { script, tokens, text, offsets };
}
