/**
 * Elementwise primitives (unary, binary, erfc, mod, cast, compare, where): one ONNX node each, on the operands' real
 * shapes, so lazily broadcast operands stay unexpanded (ONNX broadcasts numpy-style).
 */
import { broadcastShapes, castTo, type PrimLowering } from "./lower-core.ts";

const UNARY: Record<string, string> = {
  neg: "Neg",
  reciprocal: "Reciprocal",
  exp: "Exp",
  log: "Log",
  sqrt: "Sqrt",
  sin: "Sin",
  cos: "Cos",
  erf: "Erf",
  floor: "Floor",
  ceil: "Ceil",
  stop_gradient: "Identity",
};
const BINARY: Record<string, string> = { add: "Add", mul: "Mul", min: "Min", max: "Max", idiv: "Div" };
const COMPARE: Record<string, string> = { less: "Less", equal: "Equal", less_equal: "LessOrEqual" };

const unary: PrimLowering = ({ g, prim, ins, value }) => [
  value(g.one(UNARY[prim]!, [ins[0]!.name]), ins[0]!.shape),
];

const binary: PrimLowering = ({ g, prim, ins, dtype, value }) => {
  const shape = broadcastShapes(ins[0]!.shape, ins[1]!.shape);
  // bool arithmetic is logic: × and min are "and", + and max are "or"
  const op = dtype === "bool" ? (prim === "mul" || prim === "min" ? "And" : "Or") : BINARY[prim]!;
  return [value(g.one(op, [ins[0]!.name, ins[1]!.name]), shape)];
};

/** Elementwise primitives by name. */
export const ELEMENTWISE: Record<string, PrimLowering> = {
  ...Object.fromEntries(Object.keys(UNARY).map((k) => [k, unary])),
  ...Object.fromEntries(Object.keys(BINARY).map((k) => [k, binary])),
  mod: ({ g, ins, value }) => {
    const shape = broadcastShapes(ins[0]!.shape, ins[1]!.shape);
    return [value(g.one("Mod", [ins[0]!.name, ins[1]!.name], { fmod: { kind: "int", value: 1 } }), shape)];
  },
  // ONNX has no Erfc: 1 − Erf(x), exact to float32's absolute precision (what an exact GELU needs)
  erfc: ({ g, ins, dtype, value }) => [
    value(g.one("Sub", [g.constant(dtype, [], [1]), g.one("Erf", [ins[0]!.name])]), ins[0]!.shape),
  ],
  cast: ({ g, ins, dtype, value }) => [
    value(g.one("Cast", [ins[0]!.name], { to: { kind: "int", value: castTo(dtype) } }), ins[0]!.shape),
  ],
  compare: ({ g, ins, p, value }) => {
    const shape = broadcastShapes(ins[0]!.shape, ins[1]!.shape);
    const pair = [ins[0]!.name, ins[1]!.name];
    if (p.op === "not_equal") return [value(g.one("Not", [g.one("Equal", pair)]), shape)];
    const op = COMPARE[p.op];
    return op ? [value(g.one(op, pair), shape)] : undefined;
  },
  where: ({ g, ins, value }) => {
    const shape = broadcastShapes(...ins.map((v) => v.shape));
    return [
      value(
        g.one(
          "Where",
          ins.map((v) => v.name),
        ),
        shape,
      ),
    ];
  },
};
