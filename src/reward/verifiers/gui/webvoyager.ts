/**
 * WebVoyager web actions (reward-spec-official.md §1.3 entry 18, §2.4). Two formats:
 * - new (coordinates): `CLICK(point=(x, y)[, box=[[…]]][, element_info='…'])`, `TYPE(point=…, text='…')`,
 *   `KEY_PRESS(key='…')`, `SCROLL_DOWN|SCROLL_UP(point=…[, distance=…])`, `ANSWER(content='…')`;
 * - old (set-of-marks): `Click [n]`, `Type [n]; [text]`, `Key; [k]`, `Scroll [n|WINDOW]; [up|down]`, `Wait`,
 *   `GoBack`, `Google`, `Bing`, `ANSWER; <content>…</content>`.
 *
 * Kept from the release: a click scores 1 at the exact point, 0.05 on the same element elsewhere; typing
 * scores the text (LCS ratio) × 0.95 at another point; keys are case-insensitive with Return↔Enter at 0.05;
 * a scroll needs the same point and direction, then compares distances; answers by LCS ratio.
 * Better than the release (each has a test):
 * - when the label's CLICK carries `box=[[…]]`, a click inside the box scores 1 (point-in-box), outside it the
 *   OSWorld distance score to the box's nearest edge (at least the 0.05 same-element credit);
 * - the 0.05 same-element credit needs a real `element_info` on both sides (the release gave it to any two
 *   clicks that both lacked one); coordinates of 1000+ are invalid → 0;
 * - a TYPE with wrong text at a wrong point scores 0.95 × text (the release floored it at 0.05, above the 0
 *   of wrong text at the right point);
 * - two scrolls that both omit `distance` match (the release scored 0); parameters may come in any order;
 * - a bare point `(x, y)` / `[x, y]` against a CLICK label is read as a click there.
 */
import type { VerifyResult } from "../../types.ts";
import {
  continuousResult,
  discreteResult,
  judgedResult,
  MAX_ACTION_CHARS,
  parseCall,
  zeroResult,
} from "./action.ts";
import { type Box, isValidTarget, matchTarget, type Point, parseTarget } from "./point.ts";
import { lcsRatio } from "./similarity.ts";

/** A parsed WebVoyager action. `index` is the set-of-marks label of the old format. */
export type WebAction =
  | { kind: "click"; point: Point; box?: Box | undefined; elementInfo?: string | undefined }
  | { kind: "click_mark"; index: number }
  | { kind: "type"; point: Point; text: string }
  | { kind: "type_mark"; index: number; text: string }
  | { kind: "key"; key: string }
  | { kind: "scroll"; point: Point; direction: "up" | "down"; distance?: number | undefined }
  | { kind: "scroll_mark"; mark: string; direction: string }
  | { kind: "wait" | "goback" | "google" | "bing" }
  | { kind: "answer"; content: string };

/** Credit for clicking the right element at the wrong point, and for Return vs Enter (the release's values). */
const CONSOLATION = 0.05;
/** Typing the right text at another point keeps 95% of the text score. */
const OTHER_POINT_FACTOR = 0.95;

const OLD_FORMS: [RegExp, (m: RegExpExecArray) => WebAction][] = [
  [/^Click \[?(\d{1,9})\]?/, (m) => ({ kind: "click_mark", index: Number(m[1]) })],
  [
    /^Type \[?(\d{1,9})\]?[; ]+\[?([^\]]*)\]?/,
    (m) => ({ kind: "type_mark", index: Number(m[1]), text: m[2]! }),
  ],
  [/^Key[; ]+\[?([^\]]*)\]?/, (m) => ({ kind: "key", key: m[1]!.trim() })],
  [
    /^Scroll \[?(\d{1,9}|WINDOW)\]?[; ]+\[?(up|down)\]?/,
    (m) => ({ kind: "scroll_mark", mark: m[1]!, direction: m[2]! }),
  ],
  [/^Wait/, () => ({ kind: "wait" })],
  [/^GoBack/, () => ({ kind: "goback" })],
  [/^Google/, () => ({ kind: "google" })],
  [/^Bing/, () => ({ kind: "bing" })],
  [/^ANSWER[; ]+<content>([\s\S]*?)<\/content>/, (m) => ({ kind: "answer", content: m[1]! })],
];

function readPoint(text: string | undefined): Point | null {
  const t = text === undefined ? null : parseTarget(text);
  return t?.kind === "point" ? t : null;
}

/**
 * Parse a WebVoyager action (the box content): the new call format first, then the old set-of-marks forms.
 * A bare point is read as a click there. Returns null when nothing matches.
 * @example parseWebAction("KEY_PRESS(key='Enter')") // { kind: "key", key: "Enter" }
 */
export function parseWebAction(text: string): WebAction | null {
  const s = text.trim();
  const bare = parseTarget(s);
  if (bare?.kind === "point") return { kind: "click", point: bare };
  const call = parseCall(s);
  if (call) {
    const arg = (k: string) => call.named.get(k)?.text;
    const point = readPoint(arg("point"));
    const boxTarget = arg("box") === undefined ? null : parseTarget(arg("box")!);
    const box = boxTarget?.kind === "box" ? boxTarget : undefined;
    switch (call.name) {
      case "CLICK":
        return point ? { kind: "click", point, box, elementInfo: arg("element_info") } : null;
      case "TYPE":
        return point ? { kind: "type", point, text: arg("text") ?? "" } : null;
      case "KEY_PRESS":
        return arg("key") === undefined ? null : { kind: "key", key: arg("key")! };
      case "SCROLL_DOWN":
      case "SCROLL_UP": {
        if (!point) return null;
        const d = arg("distance");
        const direction = call.name === "SCROLL_UP" ? "up" : "down";
        return { kind: "scroll", point, direction, distance: d === undefined ? undefined : Number(d) };
      }
      case "ANSWER":
        return arg("content") === undefined ? null : { kind: "answer", content: arg("content")! };
    }
  }
  for (const [pattern, build] of OLD_FORMS) {
    const m = pattern.exec(s);
    if (m) return build(m);
  }
  return null;
}

function samePoint(a: Point, b: Point): boolean {
  return a.x === b.x && a.y === b.y;
}

/** Text score of the release: 1 when equal, LCS ratio when both are non-empty, else 0. */
function textScore(pred: string, gold: string): number {
  if (pred === gold) return 1;
  return pred.length > 0 && gold.length > 0 ? lcsRatio(pred, gold) : 0;
}

function scoreClick(
  p: Extract<WebAction, { kind: "click" }>,
  g: Extract<WebAction, { kind: "click" }>,
): VerifyResult {
  if (!isValidTarget(p.point) || !isValidTarget(g.point)) return zeroResult("click coordinates out of 0–999");
  if (samePoint(p.point, g.point)) return discreteResult(1, "click at the labelled point");
  const sameElement = p.elementInfo !== undefined && p.elementInfo !== "" && p.elementInfo === g.elementInfo;
  const consolation = sameElement ? CONSOLATION : 0;
  if (g.box && isValidTarget(g.box)) {
    const m = matchTarget(p.point, g.box);
    if (m.how === "in_box") return discreteResult(1, "click inside the labelled box");
    return judgedResult(
      Math.max(m.score, consolation),
      false,
      `click outside the labelled box: ${m.how} ${m.score}`,
    );
  }
  return discreteResult(
    consolation,
    sameElement ? "same element, another point" : "another point and element",
  );
}

function scoreScroll(
  p: Extract<WebAction, { kind: "scroll" }>,
  g: Extract<WebAction, { kind: "scroll" }>,
): VerifyResult {
  if (!isValidTarget(p.point) || !isValidTarget(g.point))
    return zeroResult("scroll coordinates out of 0–999");
  if (!samePoint(p.point, g.point) || p.direction !== g.direction)
    return zeroResult("scroll point or direction differs");
  if (p.distance === undefined && g.distance === undefined)
    return continuousResult(1, "same scroll, no distances");
  if (p.distance === undefined || g.distance === undefined)
    return zeroResult("scroll distance missing on one side");
  if (!Number.isFinite(p.distance) || !Number.isFinite(g.distance))
    return zeroResult("scroll distance unreadable");
  const largest = Math.max(Math.abs(p.distance), Math.abs(g.distance));
  if (p.distance === g.distance || largest === 0) return continuousResult(1, "same scroll distance");
  return continuousResult(1 - Math.abs(p.distance - g.distance) / largest, "scroll distance ratio");
}

/**
 * Score a predicted WebVoyager action against the labelled one (both as box content). Never throws.
 * @example scoreWebVoyager("ANSWER(content='Dinner')", "ANSWER(content='Dinners')").score // 0.857
 */
export function scoreWebVoyager(pred: string, gold: string): VerifyResult {
  if (pred.length > MAX_ACTION_CHARS || gold.length > MAX_ACTION_CHARS) return zeroResult("action too long");
  const g = parseWebAction(gold);
  if (!g) return zeroResult("unreadable WebVoyager label");
  const p = parseWebAction(pred);
  if (!p) return zeroResult("unreadable WebVoyager action");
  if (p.kind !== g.kind) return zeroResult(`action ${p.kind} ≠ label ${g.kind}`);
  switch (g.kind) {
    case "click":
      return scoreClick(p as typeof g, g);
    case "click_mark":
      return discreteResult((p as typeof g).index === g.index ? 1 : 0, "set-of-marks click index");
    case "type": {
      const q = p as typeof g;
      if (!isValidTarget(q.point) || !isValidTarget(g.point))
        return zeroResult("type coordinates out of 0–999");
      const text = textScore(q.text, g.text);
      if (samePoint(q.point, g.point)) return continuousResult(text, "typed text at the labelled point");
      return continuousResult(text * OTHER_POINT_FACTOR, "typed text at another point");
    }
    case "type_mark": {
      const q = p as typeof g;
      if (q.index !== g.index) return zeroResult("typed into another mark");
      return continuousResult(lcsRatio(q.text, g.text), "typed text (set-of-marks)");
    }
    case "key": {
      const a = (p as typeof g).key.toLowerCase();
      const b = g.key.toLowerCase();
      if (a === b) return discreteResult(1, "same key");
      const returnEnter = (a === "return" && b === "enter") || (a === "enter" && b === "return");
      return discreteResult(returnEnter ? CONSOLATION : 0, returnEnter ? "Return vs Enter" : "another key");
    }
    case "scroll":
      return scoreScroll(p as typeof g, g);
    case "scroll_mark": {
      const q = p as typeof g;
      return discreteResult(q.mark === g.mark && q.direction === g.direction ? 1 : 0, "set-of-marks scroll");
    }
    case "answer":
      return continuousResult(textScore((p as typeof g).content, g.content), "answer text");
    default:
      return discreteResult(1, `${g.kind} matches`);
  }
}
