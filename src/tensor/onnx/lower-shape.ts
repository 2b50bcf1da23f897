/**
 * Movement primitives (transpose, broadcast, reshape, shrink, pad, flip, concatenate, split). `broadcast` stays
 * lazy (a unit axis, expanded only where a consumer needs it); transpose and reshape keep it lazy when they can.
 */
import { type PrimLowering, same } from "./lower-core.ts";

/**
 * The real shape after reshaping `full` to `to` while some axes are lazily broadcast (real 1, full > 1), or
 * undefined when a group of merged or split axes mixes broadcast and real axes (the value must be expanded).
 */
export function lazyReshape(
  real: readonly number[],
  full: readonly number[],
  to: readonly number[],
): number[] | undefined {
  if (same(real, full)) return [...to];
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < full.length || j < to.length) {
    // one group: the shortest runs of axes on both sides with equal products
    const gi = [i];
    const gj = [j];
    let pi = full[i] ?? 1;
    let pj = to[j] ?? 1;
    i++;
    j++;
    while (pi !== pj) {
      if (pi < pj) {
        if (i >= full.length) return undefined;
        gi.push(i);
        pi *= full[i++]!;
      } else {
        if (j >= to.length) return undefined;
        gj.push(j);
        pj *= to[j++]!;
      }
    }
    const ins = gi.filter((k) => k < full.length);
    const outs = gj.filter((k) => k < to.length);
    const isReal = ins.every((k) => real[k] === full[k]);
    const isBroadcast = ins.every((k) => real[k] === 1);
    if (!isReal && !isBroadcast) return undefined;
    for (const k of outs) out.push(isReal ? to[k]! : 1);
  }
  return out.length === to.length ? out : undefined;
}

/** Movement primitives by name. */
export const SHAPE_OPS: Record<string, PrimLowering> = {
  transpose: ({ low, ins, p, value }) => {
    const x = low.ranked(ins[0]!);
    const perm = p.perm as number[];
    return [
      value(
        low.permute(x.name, x.shape, perm),
        perm.map((i) => x.shape[i]!),
      ),
    ];
  },
  broadcast: ({ low, ins, p, value }) => {
    // lazy: unsqueeze now, expand only where a consumer needs the full shape
    const x = low.ranked(ins[0]!);
    const unsq = [...x.shape];
    for (const i of [...(p.axis as number[])].sort((a, b) => a - b)) unsq.splice(i, 0, 1);
    return [value(low.reshape(x.name, x.shape, unsq), unsq)];
  },
  reshape: ({ low, ins, full, value, whole }) => {
    const x = low.ranked(ins[0]!);
    const real = lazyReshape(x.shape, x.full, full);
    if (real) return [value(low.reshape(x.name, x.shape, real), real)];
    const [w] = whole();
    return [value(low.reshape(w!.name, w!.shape, full))];
  },
  shrink: ({ g, p, value, whole }) => {
    const [x] = whole();
    const slice = p.slice as [number, number][];
    const axes = slice.map((_, i) => i).filter((i) => slice[i]![0] !== 0 || slice[i]![1] !== x!.shape[i]);
    if (axes.length === 0) return [value(x!.name)];
    const starts = g.ints(axes.map((i) => slice[i]![0]));
    const ends = g.ints(axes.map((i) => slice[i]![1]));
    return [value(g.one("Slice", [x!.name, starts, ends, g.ints(axes)]))];
  },
  pad: ({ g, p, dtype, value, whole }) => {
    const [x] = whole();
    const width = p.width as [number, number][];
    const pads = g.ints([...width.map((w) => w[0]), ...width.map((w) => w[1])]);
    return [value(g.one("Pad", [x!.name, pads, g.constant(dtype, [], [0])]))];
  },
  flip: ({ g, p, value, whole }) => {
    const [x] = whole();
    const axes = p.axis as number[];
    const starts = g.ints(axes.map(() => -1));
    const ends = g.ints(axes.map((i) => -x!.shape[i]! - 1));
    const steps = g.ints(axes.map(() => -1));
    return [value(g.one("Slice", [x!.name, starts, ends, g.ints(axes), steps]))];
  },
  concatenate: ({ g, p, value, whole }) => [
    value(
      g.one(
        "Concat",
        whole().map((v) => v.name),
        { axis: { kind: "int", value: p.axis } },
      ),
    ),
  ],
  split: ({ g, e, p, dtype, whole }) => {
    const [x] = whole();
    const sizes = p.sizes as number[];
    const outs = g.node(
      "Split",
      [x!.name, g.ints(sizes)],
      { axis: { kind: "int", value: p.axis } },
      sizes.length,
    );
    return outs.map((name, i) => ({
      name,
      shape: e.outBinders[i]!.aval.shape,
      full: e.outBinders[i]!.aval.shape,
      dtype,
    }));
  },
};
