/**
 * Test-only verifiers the pool tests inject through `extraVerifiersModule`: they replace the `text` verifier with
 * one that misbehaves on purpose when the gold answer names a failure. Never loaded outside tests.
 */
import { ComputeEngine } from "@cortex-js/compute-engine";
import type { Domain } from "../model/domains.ts";
import { VERIFIERS } from "./registry.ts";
import type { Verifier } from "./types.ts";

const misbehavingText: Verifier = (pred, gold, ctx) => {
  if (gold === "__hang__") for (;;) {} // a computer-algebra call that never returns
  // The real thing: the engine's numeric evaluation iterates this sum term by term (minutes).
  if (gold === "__cas__")
    return { score: 0, correct: false, reason: String(new ComputeEngine().parse(pred).N()) };
  if (gold === "__crash__") process.exit(7); // in a worker this ends the thread only
  if (gold === "__oom__") {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array(1 << 20).fill(1));
  }
  if (gold === "__throw__") throw new Error("verifier bug");
  return VERIFIERS.text(pred, gold, ctx);
};

export const verifiers: Partial<Record<Domain, Verifier>> = { text: misbehavingText };
