import { hasSignal, meanStd } from "./advantages.ts";

/** The rollouts of one prompt with their rewards (the unit that is kept or dropped). */
export type Group<T = unknown> = { promptId: string; rewards: number[]; payload: T };

/** Share of groups without signal (all right or all wrong): the `invalidRate` that drives the ratio EMA. */
export function invalidRate(groups: readonly Group[], eps = 1e-6): number {
  if (groups.length === 0) return 0;
  return groups.filter((g) => !hasSignal(g.rewards, eps)).length / groups.length;
}

/**
 * Keep groups with signal, then pick `batchSize` of them so that the batch is close to half right and half
 * wrong (§5.3.1): groups whose mean reward is above 0.5 and below 0.5 are taken alternately, each side in a
 * random order drawn from `rand`, and whichever side runs out is topped up from the other.
 */
export function balancedSubsample<T>(
  groups: readonly Group<T>[],
  batchSize: number,
  rand: () => number,
  eps = 1e-6,
): Group<T>[] {
  const withSignal = groups.filter((g) => hasSignal(g.rewards, eps));
  const high = shuffle(
    withSignal.filter((g) => meanStd(g.rewards).mean >= 0.5),
    rand,
  );
  const low = shuffle(
    withSignal.filter((g) => meanStd(g.rewards).mean < 0.5),
    rand,
  );
  const out: Group<T>[] = [];
  while (out.length < batchSize && (high.length > 0 || low.length > 0)) {
    const preferHigh = out.length % 2 === 0;
    const side = (preferHigh ? high : low).length > 0 ? (preferHigh ? high : low) : preferHigh ? low : high;
    out.push(side.shift()!);
  }
  return out;
}

/** Fisher–Yates on a copy, with randomness only from the passed generator. */
export function shuffle<T>(xs: readonly T[], rand: () => number): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
