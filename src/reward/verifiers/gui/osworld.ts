/**
 * OSWorld desktop actions (reward-spec-official.md §1.3 entry 17, §2.4): parse `name(key='value', …)` calls and
 * score a predicted action against the labelled one.
 *
 * Kept from the release: action names must match exactly (so `wait()` ≠ `WAIT()`), the distance score, drag
 * √(start·end), scroll point × direction × step, typed-text similarity, case-insensitive keys.
 * Better than the release (each has a test):
 * - a 4-number `start_box` in the label is a box: a click inside it scores 1 (point-in-box, `point.ts`);
 * - coordinates of 1000 or more, or negative, are invalid → 0 (the release accepted any digits);
 * - quoted values honour `\'` escapes (the release cut `content='don\'t'` at the escaped quote);
 * - key combos ignore spaces around `+` (`ctrl + c` = `ctrl+c`), scroll directions ignore case;
 * - a label with `step=0` no longer divides by zero: only `step=0` matches it;
 * - a bare point `[x, y]` / `(x, y)` (or a bare box) predicted against a `left_click` label is read as
 *   `left_click` at that point (compact form for small models).
 */
import type { VerifyResult } from "../../types.ts";
import {
  type ActionCall,
  continuousResult,
  discreteResult,
  judgedResult,
  MAX_ACTION_CHARS,
  parseCall,
  zeroResult,
} from "./action.ts";
import { formatTarget, matchTarget, parseTarget, type Target } from "./point.ts";
import { typedTextSimilarity } from "./similarity.ts";

/** Actions whose only parameter is the point they act on. */
export const OSWORLD_CLICKS = [
  "left_click",
  "left_double_click",
  "right_click",
  "middle_click",
  "hover",
] as const;
/** Actions without parameters that score 1 when the names match (the release's list, names case-sensitive). */
const NO_PARAMETER_ACTIONS = new Set(["WAIT", "DONE", "FAIL", "wait", "finished"]);
/** The release's default when a predicted scroll has no `step`. */
const DEFAULT_SCROLL_STEP = 5;

/** A parsed OSWorld action; fields are present when the call carried them. */
export type OsworldAction = {
  name: string;
  elementInfo?: string | undefined;
  /** `start_box` of a click, drag or scroll: a point, or a box meaning "anywhere inside". */
  target?: Target | undefined;
  /** `end_box` of a drag. */
  end?: Target | undefined;
  direction?: string | undefined;
  step?: number | undefined;
  content?: string | undefined;
  keys?: string | undefined;
};

function readTarget(call: ActionCall, key: string): Target | undefined {
  const arg = call.named.get(key);
  return arg ? (parseTarget(arg.text) ?? undefined) : undefined;
}

/**
 * Parse an OSWorld action (the box content). Returns null when the text is not one well-formed call.
 * A text that is only a point or box is read as `left_click` there.
 * @example parseOsworldAction("left_click(start_box='[100, 200]')")?.target // { kind: "point", x: 100, y: 200 }
 */
export function parseOsworldAction(text: string): OsworldAction | null {
  const bare = parseTarget(text);
  if (bare) return { name: "left_click", target: bare };
  const call = parseCall(text);
  if (!call) return null;
  const action: OsworldAction = { name: call.name, elementInfo: call.named.get("element_info")?.text };
  const stepText = call.named.get("step")?.text;
  if (stepText !== undefined) {
    if (!/^\d{1,6}$/.test(stepText.trim())) return null;
    action.step = Number(stepText.trim());
  }
  action.target = readTarget(call, "start_box");
  action.end = readTarget(call, "end_box");
  action.direction = call.named.get("direction")?.text;
  action.content = call.named.get("content")?.text;
  action.keys = call.named.get("keys")?.text;
  return action;
}

function normaliseKeys(keys: string): string {
  return keys
    .trim()
    .toLowerCase()
    .replace(/\s*\+\s*/g, "+");
}

function scoreClick(pred: OsworldAction, gold: OsworldAction): VerifyResult {
  if (!gold.target) return zeroResult(`label ${gold.name} has no readable start_box`);
  if (!pred.target) return zeroResult(`${pred.name} has no readable start_box`);
  const m = matchTarget(pred.target, gold.target);
  return judgedResult(
    m.score,
    m.hit,
    `${pred.name} ${formatTarget(pred.target)} vs ${formatTarget(gold.target)}: ${m.how}`,
  );
}

function scoreDrag(pred: OsworldAction, gold: OsworldAction): VerifyResult {
  if (!gold.target || !gold.end) return zeroResult("label left_drag lacks start_box or end_box");
  if (!pred.target || !pred.end) return zeroResult("left_drag lacks a readable start_box or end_box");
  const start = matchTarget(pred.target, gold.target);
  const end = matchTarget(pred.end, gold.end);
  const score = Math.sqrt(start.score * end.score);
  return judgedResult(
    score,
    start.hit && end.hit,
    `drag: start ${start.how} ${start.score}, end ${end.how} ${end.score}`,
  );
}

/** Step score: 1 − |Δ| / (2·gold step), floored at 0; a gold step of 0 only matches 0. */
function stepScore(predStep: number | undefined, goldStep: number | undefined): number {
  if (goldStep === undefined) return 1;
  const step = predStep ?? DEFAULT_SCROLL_STEP;
  if (goldStep === 0) return step === 0 ? 1 : 0;
  return Math.max(0, 1 - Math.abs(step - goldStep) / (2 * goldStep));
}

function scoreScroll(pred: OsworldAction, gold: OsworldAction): VerifyResult {
  if (!gold.target || gold.direction === undefined)
    return zeroResult("label scroll lacks start_box or direction");
  if (!pred.target || pred.direction === undefined)
    return zeroResult("scroll lacks a readable start_box or direction");
  const place = matchTarget(pred.target, gold.target);
  const sameDirection = pred.direction.trim().toLowerCase() === gold.direction.trim().toLowerCase();
  const steps = stepScore(pred.step, gold.step);
  const score = place.score * (sameDirection ? 1 : 0) * steps;
  const reason = `scroll: point ${place.how} ${place.score}, direction ${sameDirection ? "same" : "differs"}, step ${steps}`;
  return judgedResult(score, place.hit && sameDirection && score >= 0.5, reason);
}

/**
 * Score a predicted OSWorld action against the labelled one (both as box content). Never throws.
 * Continuous scores count as correct at ≥ 0.5; clicks on a labelled box count only inside it.
 * @example scoreOsworld("key(keys='Ctrl+C')", "key(keys='ctrl+c')").score // 1
 */
export function scoreOsworld(pred: string, gold: string): VerifyResult {
  if (pred.length > MAX_ACTION_CHARS || gold.length > MAX_ACTION_CHARS) return zeroResult("action too long");
  const g = parseOsworldAction(gold);
  if (!g) return zeroResult("unreadable OSWorld label");
  const p = parseOsworldAction(pred);
  if (!p) return zeroResult("unreadable OSWorld action");
  if (p.name !== g.name) return zeroResult(`action ${p.name} ≠ label ${g.name}`);
  const name = g.name;
  if ((OSWORLD_CLICKS as readonly string[]).includes(name)) return scoreClick(p, g);
  if (name === "left_drag") return scoreDrag(p, g);
  if (name === "scroll") return scoreScroll(p, g);
  if (name === "type") {
    if (g.content === undefined || p.content === undefined) return zeroResult("type lacks content");
    return continuousResult(typedTextSimilarity(p.content, g.content), "typed-text similarity");
  }
  if (name === "key" || name === "hotkey") {
    if (g.keys === undefined || p.keys === undefined) return zeroResult(`${name} lacks keys`);
    const same = normaliseKeys(p.keys) === normaliseKeys(g.keys);
    return discreteResult(same ? 1 : 0, same ? "same keys" : `keys ${p.keys} ≠ ${g.keys}`);
  }
  if (NO_PARAMETER_ACTIONS.has(name)) return discreteResult(1, `${name} matches`);
  return zeroResult(`unsupported OSWorld action ${name}`);
}
