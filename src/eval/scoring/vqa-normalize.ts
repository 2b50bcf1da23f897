/**
 * The VQA answer normaliser EvalAI uses (lmms-eval `lmms_eval/tasks/_task_utils/vqa_eval_metric.py`
 * `EvalAIAnswerProcessor`, from MMF) and the VQA score TextVQA reports (lmms-eval `tasks/textvqa/utils.py`).
 * Its quirks are kept: commas and `?` go before the punctuation pass (so the digit-comma rule never fires), the
 * period pattern `(?!<=\d)(\.)(?!\d)` is a lookahead typo that removes every `.` not followed by a digit, and its
 * `re.UNICODE` lands in `sub`'s `count` slot, so only the first 32 such periods go.
 */
import { pySplitWhitespace as pySplit, pyStrip } from "../python/text.ts";

/** The standard VQA contractions table (keys as the processor has them; the capitalised ones never match). */
const CONTRACTIONS: Record<string, string> = {
  aint: "ain't",
  arent: "aren't",
  cant: "can't",
  couldve: "could've",
  couldnt: "couldn't",
  "couldn'tve": "couldn't've",
  "couldnt've": "couldn't've",
  didnt: "didn't",
  doesnt: "doesn't",
  dont: "don't",
  hadnt: "hadn't",
  "hadnt've": "hadn't've",
  "hadn'tve": "hadn't've",
  hasnt: "hasn't",
  havent: "haven't",
  hed: "he'd",
  "hed've": "he'd've",
  "he'dve": "he'd've",
  hes: "he's",
  howd: "how'd",
  howll: "how'll",
  hows: "how's",
  "Id've": "I'd've",
  "I'dve": "I'd've",
  Im: "I'm",
  Ive: "I've",
  isnt: "isn't",
  itd: "it'd",
  "itd've": "it'd've",
  "it'dve": "it'd've",
  itll: "it'll",
  "let's": "let's",
  maam: "ma'am",
  mightnt: "mightn't",
  "mightnt've": "mightn't've",
  "mightn'tve": "mightn't've",
  mightve: "might've",
  mustnt: "mustn't",
  mustve: "must've",
  neednt: "needn't",
  notve: "not've",
  oclock: "o'clock",
  oughtnt: "oughtn't",
  "ow's'at": "'ow's'at",
  "'ows'at": "'ow's'at",
  "'ow'sat": "'ow's'at",
  shant: "shan't",
  "shed've": "she'd've",
  "she'dve": "she'd've",
  "she's": "she's",
  shouldve: "should've",
  shouldnt: "shouldn't",
  "shouldnt've": "shouldn't've",
  "shouldn'tve": "shouldn't've",
  "somebody'd": "somebodyd",
  "somebodyd've": "somebody'd've",
  "somebody'dve": "somebody'd've",
  somebodyll: "somebody'll",
  somebodys: "somebody's",
  someoned: "someone'd",
  "someoned've": "someone'd've",
  "someone'dve": "someone'd've",
  someonell: "someone'll",
  someones: "someone's",
  somethingd: "something'd",
  "somethingd've": "something'd've",
  "something'dve": "something'd've",
  somethingll: "something'll",
  thats: "that's",
  thered: "there'd",
  "thered've": "there'd've",
  "there'dve": "there'd've",
  therere: "there're",
  theres: "there's",
  theyd: "they'd",
  "theyd've": "they'd've",
  "they'dve": "they'd've",
  theyll: "they'll",
  theyre: "they're",
  theyve: "they've",
  twas: "'twas",
  wasnt: "wasn't",
  "wed've": "we'd've",
  "we'dve": "we'd've",
  weve: "we've",
  werent: "weren't",
  whatll: "what'll",
  whatre: "what're",
  whats: "what's",
  whatve: "what've",
  whens: "when's",
  whered: "where'd",
  wheres: "where's",
  whereve: "where've",
  whod: "who'd",
  "whod've": "who'd've",
  "who'dve": "who'd've",
  wholl: "who'll",
  whos: "who's",
  whove: "who've",
  whyll: "why'll",
  whyre: "why're",
  whys: "why's",
  wont: "won't",
  wouldve: "would've",
  wouldnt: "wouldn't",
  "wouldnt've": "wouldn't've",
  "wouldn'tve": "wouldn't've",
  yall: "y'all",
  "yall'll": "y'all'll",
  "y'allll": "y'all'll",
  "yall'd've": "y'all'd've",
  "y'alld've": "y'all'd've",
  "y'all'dve": "y'all'd've",
  youd: "you'd",
  "youd've": "you'd've",
  "you'dve": "you'd've",
  youll: "you'll",
  youre: "you're",
  youve: "you've",
};

const NUMBER_MAP: Record<string, string> = {
  none: "0",
  zero: "0",
  one: "1",
  two: "2",
  three: "3",
  four: "4",
  five: "5",
  six: "6",
  seven: "7",
  eight: "8",
  nine: "9",
  ten: "10",
};
const ARTICLES = new Set(["a", "an", "the"]);
const PUNCTUATIONS = [
  ";",
  "/",
  "[",
  "]",
  '"',
  "{",
  "}",
  "(",
  ")",
  "=",
  "+",
  "\\",
  "_",
  "-",
  ">",
  "<",
  "@",
  "`",
  ",",
  "?",
  "!",
];
/** Python's `\d` on str is any Unicode decimal digit. */
const DIGIT_COMMA = /(?<=\p{Nd}),+(?=\p{Nd})/u;
const PERIOD = /\.(?!\p{Nd})/gu;
/** `PERIOD_STRIP.sub("", text, re.UNICODE)`: re.UNICODE (32) is taken as the replacement count. */
const PERIOD_COUNT = 32;
const NEWLINE_TAB = /[\n\t]/g;

function processPunctuation(inText: string): string {
  let out = inText;
  const digitComma = DIGIT_COMMA.test(inText);
  for (const p of PUNCTUATIONS) {
    const spaced = inText.includes(`${p} `) || inText.includes(` ${p}`);
    out = out.split(p).join(spaced || digitComma ? "" : " ");
  }
  let removed = 0;
  return out.replace(PERIOD, (m) => (removed++ < PERIOD_COUNT ? "" : m));
}

function processDigitArticle(inText: string): string {
  const words = pySplit(inText.toLowerCase())
    .map((w) => (Object.hasOwn(NUMBER_MAP, w) ? (NUMBER_MAP[w] as string) : w))
    .filter((w) => !ARTICLES.has(w));
  return words.map((w) => (Object.hasOwn(CONTRACTIONS, w) ? (CONTRACTIONS[w] as string) : w)).join(" ");
}

/**
 * An answer as EvalAI compares it: lower-cased, `,`/`?` removed, `'s` split off, punctuation removed or spaced,
 * periods dropped, number words to digits, articles dropped, contractions restored.
 * @example processVqaAnswer("Two Dogs.") // "2 dogs"
 */
export function processVqaAnswer(answer: string): string {
  let item = answer.toLowerCase().replaceAll(",", "").replaceAll("?", "").replaceAll("'s", " 's");
  item = pyStrip(pyStrip(item).replace(NEWLINE_TAB, " "));
  return processDigitArticle(processPunctuation(item));
}

/**
 * The VQA score of one answer against the human answers: for each human answer left out in turn,
 * min(1, matches among the others / 3); the mean of those. Every string goes through `processVqaAnswer`.
 * @example vqaScore("Coca Cola", [2 × "coca cola", 8 × "coke"]) // (2 × 1/3 + 8 × 2/3) / 10 = 0.6
 */
export function vqaScore(prediction: string, golds: readonly string[]): number {
  const pred = processVqaAnswer(prediction);
  const processed = golds.map(processVqaAnswer);
  let total = 0;
  for (let i = 0; i < processed.length; i++) {
    let matches = 0;
    for (let j = 0; j < processed.length; j++) if (j !== i && processed[j] === pred) matches++;
    total += Math.min(1, matches / 3);
  }
  return processed.length === 0 ? 0 : total / processed.length;
}
