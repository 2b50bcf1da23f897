/**
 * The GUI-action verifier (glmv issue 3): tells which action dialect the label is written in and scores the
 * predicted action with that dialect's rules (`gui/osworld.ts`, `gui/androidworld.ts`, `gui/webvoyager.ts`).
 *
 * Dialects, decided from the label:
 * - `compact`: a bare point `[x, y]` / `(x, y)` or box `[x1, y1, x2, y2]` — glmv's synthetic GUI task; the
 *   prediction is a point or box (or a click in any dialect) and is scored by `matchTarget` (point-in-box);
 * - `androidworld`: a JSON / Python-literal object;
 * - `webvoyager`: `CLICK(`, `TYPE(`, `KEY_PRESS(`, `SCROLL_DOWN(`, `SCROLL_UP(`, `ANSWER(` or the old
 *   set-of-marks forms (`Click [3]`, `Type [3]; …`, `Key; …`, `Scroll …`, `Wait`, `GoBack`, `Google`, `Bing`,
 *   `ANSWER; <content>…`);
 * - `osworld`: any other `name(…)` call (`left_click`, `scroll`, `type`, `key`, `WAIT()`, …).
 *
 * `correct`: continuous scores (distance, IoU, text similarity) count at ≥ 0.5; discrete ones (keys, WAIT,
 * set-of-marks indices, the 0.05 consolations) only at 1; a click against a labelled box only inside the box.
 */
import type { Verifier, VerifyResult } from "../types.ts";
import { judgedResult, MAX_ACTION_CHARS, parseCall, unwrapBox, zeroResult } from "./gui/action.ts";
import { parseLiteral, scoreAndroidWorld } from "./gui/androidworld.ts";
import { parseOsworldAction, scoreOsworld } from "./gui/osworld.ts";
import { formatTarget, matchTarget, parseTarget, type Target } from "./gui/point.ts";
import { parseWebAction, scoreWebVoyager } from "./gui/webvoyager.ts";

export { scoreAndroidWorld } from "./gui/androidworld.ts";
export { scoreOsworld } from "./gui/osworld.ts";
export { scoreWebVoyager } from "./gui/webvoyager.ts";

/** The action dialects the GUI verifier understands. */
export type GuiDialect = "compact" | "androidworld" | "webvoyager" | "osworld";

const WEB_CALLS = /^(?:CLICK|TYPE|KEY_PRESS|SCROLL_DOWN|SCROLL_UP|ANSWER)\s*\(/;
const WEB_MARKS =
  /^(?:Click \[?\d|Type \[?\d|Key[; ]|Scroll \[?(?:\d|WINDOW)|Wait\b|GoBack\b|Google\b|Bing\b|ANSWER[; ]+<content>)/;

/**
 * Which dialect a labelled action is written in, or null when it is none of them.
 * @example detectGuiDialect("left_click(start_box='[1, 2]')") // "osworld"
 */
export function detectGuiDialect(gold: string): GuiDialect | null {
  const s = unwrapBox(gold);
  if (parseTarget(s)) return "compact";
  if (s.startsWith("{")) return "androidworld";
  if (WEB_CALLS.test(s) || WEB_MARKS.test(s)) return "webvoyager";
  if (parseCall(s)) return "osworld";
  return null;
}

/** The point or box a predicted click lands on, whatever dialect it is written in. */
function clickTarget(pred: string): Target | null {
  const bare = parseTarget(pred);
  if (bare) return bare;
  const os = parseOsworldAction(pred);
  // A compact label means a plain click, so only `left_click` counts (not right_click, hover, …).
  if (os?.name === "left_click" && os.target) return os.target;
  const web = parseWebAction(pred);
  if (web?.kind === "click") return web.point;
  const aw = parseLiteral(pred);
  if (aw && typeof aw === "object" && !Array.isArray(aw) && aw.action_type === "click") {
    const box = aw.box_2d;
    const inner = Array.isArray(box) && Array.isArray(box[0]) && box.length === 1 ? box[0] : box;
    if (Array.isArray(inner) && inner.every((n) => typeof n === "number")) {
      return parseTarget(`[${(inner as number[]).join(",")}]`);
    }
  }
  return null;
}

/** Compact labels: the label is a point or box, the prediction a point, box or click in any dialect. */
function scoreCompact(pred: string, gold: string): VerifyResult {
  const g = parseTarget(gold);
  if (!g) return zeroResult("unreadable compact label");
  const p = clickTarget(pred);
  if (!p) return zeroResult("no click point or box in the prediction");
  const m = matchTarget(p, g);
  return judgedResult(m.score, m.hit, `${formatTarget(p)} vs ${formatTarget(g)}: ${m.how}`);
}

/**
 * Score a predicted GUI action (the box content) against the labelled action. Synchronous, never throws;
 * anything unreadable, oversized or in another dialect than the label scores 0 with a reason.
 * @example verifyGui("[512, 640]", "[503, 580, 718, 702]", {}) // { score: 1, correct: true, … }
 */
export const verifyGui: Verifier = (pred, gold, _ctx) => {
  try {
    if (typeof pred !== "string" || typeof gold !== "string") return zeroResult("non-string input");
    if (pred.length > MAX_ACTION_CHARS * 4 || gold.length > MAX_ACTION_CHARS * 4)
      return zeroResult("input too long");
    const p = unwrapBox(pred);
    const g = unwrapBox(gold);
    if (p.length > MAX_ACTION_CHARS || g.length > MAX_ACTION_CHARS) {
      return zeroResult(`action longer than ${MAX_ACTION_CHARS} characters`);
    }
    const dialect = detectGuiDialect(g);
    switch (dialect) {
      case "compact":
        return scoreCompact(p, g);
      case "androidworld":
        return scoreAndroidWorld(p, g);
      case "webvoyager":
        return scoreWebVoyager(p, g);
      case "osworld":
        return scoreOsworld(p, g);
      default:
        return zeroResult("label is not a GUI action in a known dialect");
    }
  } catch (e) {
    // Defensive: the scorers are written not to throw; a bug must still not take down a reward batch.
    return zeroResult(`gui verifier error: ${e instanceof Error ? e.message : String(e)}`);
  }
};
