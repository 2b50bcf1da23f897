/**
 * Length balancing across data-parallel ranks (§5.4), with verl's workload model and Karmarkar–Karp
 * (largest differencing) partitioning, so that no rank straggles with all the long sequences.
 */

/** verl's cost model of one sequence of `length` tokens: linear layers plus quadratic attention. */
export const sequenceWorkload = (length: number): number => 24576 * length + length * length;

type Subset = { sum: number; items: number[] };
type PartitionState = Subset[]; // k subsets, kept sorted by sum, largest first

const spread = (s: PartitionState): number => s[0]!.sum - s[s.length - 1]!.sum;
const sortDesc = (s: PartitionState): PartitionState => s.sort((a, b) => b.sum - a.sum);

/** Merge two k-way states so their differences cancel: the largest subset of one meets the smallest of the other. */
function mergeStates(a: PartitionState, b: PartitionState): PartitionState {
  const k = a.length;
  const merged: PartitionState = [];
  for (let i = 0; i < k; i++) {
    const x = a[i]!;
    const y = b[k - 1 - i]!;
    merged.push({ sum: x.sum + y.sum, items: [...x.items, ...y.items] });
  }
  return sortDesc(merged);
}

/**
 * Split item indices into `k` partitions with near-equal total workload (Karmarkar–Karp). With `equalSize`
 * (requires `workloads.length % k === 0`) every partition also gets the same number of items, as verl does for
 * data-parallel ranks that must run the same number of micro-steps.
 * @example karmarkarKarp([5, 4, 3, 3, 2, 1], 2, true) // two partitions of 3 items summing to 9 each
 */
export function karmarkarKarp(workloads: readonly number[], k: number, equalSize: boolean): number[][] {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (equalSize && workloads.length % k !== 0) {
    throw new RangeError(`equalSize needs the item count (${workloads.length}) to be a multiple of k (${k})`);
  }
  const order = workloads.map((w, i) => ({ w, i })).sort((a, b) => a.w - b.w);
  let states: PartitionState[] = [];
  if (equalSize) {
    for (let start = 0; start < order.length; start += k) {
      const chunk = order.slice(start, start + k);
      states.push(sortDesc(chunk.map(({ w, i }) => ({ sum: w, items: [i] }))));
    }
  } else {
    for (const { w, i } of order) {
      const s: PartitionState = [{ sum: w, items: [i] }];
      for (let j = 1; j < k; j++) s.push({ sum: 0, items: [] });
      states.push(s);
    }
  }
  if (states.length === 0) return Array.from({ length: k }, () => []);
  // Repeatedly merge the two states with the largest spread (a small array: sorting each round is fine).
  while (states.length > 1) {
    states.sort((a, b) => spread(b) - spread(a));
    const [a, b, ...rest] = states;
    states = [mergeStates(a!, b!), ...rest];
  }
  return states[0]!.map((s) => s.items.sort((x, y) => x - y));
}

/** Order a rank's items small/large interleaved (verl: `sorted[::2] + sorted[1::2][::-1]`). */
export function interleaveSmallLarge(items: readonly number[], workloads: readonly number[]): number[] {
  const sorted = items.slice().sort((a, b) => workloads[a]! - workloads[b]!);
  const even = sorted.filter((_, i) => i % 2 === 0);
  const odd = sorted.filter((_, i) => i % 2 === 1).reverse();
  return [...even, ...odd];
}

export type RankAssignment = {
  /** Item indices per rank, in execution order. */
  ranks: number[][];
  /** Total workload per rank. */
  workload: number[];
  /** max / mean rank workload (1 = perfect). */
  balance: number;
};

/** Balance sequences of the given lengths over `numRanks` ranks. */
export function balanceRanks(lengths: readonly number[], numRanks: number): RankAssignment {
  const workloads = lengths.map(sequenceWorkload);
  const equalSize = lengths.length % numRanks === 0;
  const parts = karmarkarKarp(workloads, numRanks, equalSize).map((p) => interleaveSmallLarge(p, workloads));
  const workload = parts.map((p) => p.reduce((s, i) => s + workloads[i]!, 0));
  const mean = workload.reduce((a, b) => a + b, 0) / numRanks;
  return { ranks: parts, workload, balance: mean > 0 ? Math.max(...workload) / mean : 1 };
}
