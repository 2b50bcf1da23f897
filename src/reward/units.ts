/**
 * Units by dimensional analysis: a unit is a factor to SI, an offset (°C, °F) and a vector of exponents of the
 * seven SI base dimensions. `5 km` and `5000 m` are both 5000 [L]; `1 m/s` and `3.6 km/h` are both 1 [L T⁻¹].
 */

/** Exponents of the SI base dimensions, in the order L (m), M (kg), T (s), I (A), Θ (K), N (mol), J (cd). */
export type Dimensions = readonly [number, number, number, number, number, number, number];

/** A unit as a conversion to SI: `si = value · factor + offset`. Only lone temperature units have an offset. */
export type Unit = { factor: number; dims: Dimensions; offset: number };

const D = (l = 0, m = 0, t = 0, i = 0, th = 0, n = 0, j = 0): Dimensions => [l, m, t, i, th, n, j];
const u = (factor: number, dims: Dimensions, offset = 0): Unit => ({ factor, dims, offset });

const NONE = D();
const LENGTH = D(1);
const MASS = D(0, 1);
const TIME = D(0, 0, 1);
const ENERGY = D(2, 1, -2);
const PRESSURE = D(-1, 1, -2);
const VOLUME = D(3);
const CONCENTRATION = D(-3, 0, 0, 0, 0, 1);

/** Units that take SI prefixes (`km`, `mg`, `μs`, `kJ`, `mL`, `mM`, `kPa`). */
const PREFIXABLE: Record<string, Unit> = {
  m: u(1, LENGTH),
  g: u(1e-3, MASS),
  s: u(1, TIME),
  A: u(1, D(0, 0, 0, 1)),
  K: u(1, D(0, 0, 0, 0, 1)),
  mol: u(1, D(0, 0, 0, 0, 0, 1)),
  cd: u(1, D(0, 0, 0, 0, 0, 0, 1)),
  L: u(1e-3, VOLUME),
  l: u(1e-3, VOLUME),
  N: u(1, D(1, 1, -2)),
  J: u(1, ENERGY),
  W: u(1, D(2, 1, -3)),
  Pa: u(1, PRESSURE),
  bar: u(1e5, PRESSURE),
  V: u(1, D(2, 1, -3, -1)),
  C: u(1, D(0, 0, 1, 1)),
  Ω: u(1, D(2, 1, -3, -2)),
  F: u(1, D(-2, -1, 4, 2)),
  T: u(1, D(0, 1, -2, -1)),
  Wb: u(1, D(2, 1, -2, -1)),
  H: u(1, D(2, 1, -2, -2)),
  Hz: u(1, D(0, 0, -1)),
  eV: u(1.602176634e-19, ENERGY),
  cal: u(4.184, ENERGY),
  M: u(1000, CONCENTRATION),
};

const PREFIXES: Record<string, number> = {
  Y: 1e24,
  Z: 1e21,
  E: 1e18,
  P: 1e15,
  T: 1e12,
  G: 1e9,
  M: 1e6,
  k: 1e3,
  h: 1e2,
  da: 1e1,
  d: 1e-1,
  c: 1e-2,
  m: 1e-3,
  μ: 1e-6,
  u: 1e-6,
  n: 1e-9,
  p: 1e-12,
  f: 1e-15,
  a: 1e-18,
};

/** Units without prefixes, spelled-out names and Chinese names. */
const NAMED: Record<string, Unit> = {
  min: u(60, TIME),
  h: u(3600, TIME),
  hr: u(3600, TIME),
  hrs: u(3600, TIME),
  day: u(86400, TIME),
  days: u(86400, TIME),
  d: u(86400, TIME),
  yr: u(3.15576e7, TIME),
  year: u(3.15576e7, TIME),
  years: u(3.15576e7, TIME),
  atm: u(101325, PRESSURE),
  mmHg: u(133.322387415, PRESSURE),
  torr: u(101325 / 760, PRESSURE),
  Torr: u(101325 / 760, PRESSURE),
  psi: u(6894.757293168, PRESSURE),
  ft: u(0.3048, LENGTH),
  mi: u(1609.344, LENGTH),
  mile: u(1609.344, LENGTH),
  miles: u(1609.344, LENGTH),
  mph: u(0.44704, D(1, 0, -1)),
  lb: u(0.45359237, MASS),
  t: u(1000, MASS),
  Å: u(1e-10, LENGTH),
  ohm: u(1, D(2, 1, -3, -2)),
  ohms: u(1, D(2, 1, -3, -2)),
  rad: u(1, NONE),
  deg: u(Math.PI / 180, NONE),
  "°": u(Math.PI / 180, NONE),
  "°C": u(1, D(0, 0, 0, 0, 1), 273.15),
  degC: u(1, D(0, 0, 0, 0, 1), 273.15),
  "°F": u(5 / 9, D(0, 0, 0, 0, 1), 273.15 - (32 * 5) / 9),
  "°K": u(1, D(0, 0, 0, 0, 1)),
  meter: u(1, LENGTH),
  meters: u(1, LENGTH),
  metre: u(1, LENGTH),
  metres: u(1, LENGTH),
  second: u(1, TIME),
  seconds: u(1, TIME),
  sec: u(1, TIME),
  gram: u(1e-3, MASS),
  grams: u(1e-3, MASS),
  kilogram: u(1, MASS),
  kilograms: u(1, MASS),
  liter: u(1e-3, VOLUME),
  liters: u(1e-3, VOLUME),
  litre: u(1e-3, VOLUME),
  joule: u(1, ENERGY),
  joules: u(1, ENERGY),
  newton: u(1, D(1, 1, -2)),
  newtons: u(1, D(1, 1, -2)),
  米: u(1, LENGTH),
  千米: u(1000, LENGTH),
  公里: u(1000, LENGTH),
  厘米: u(0.01, LENGTH),
  毫米: u(1e-3, LENGTH),
  千克: u(1, MASS),
  公斤: u(1, MASS),
  克: u(1e-3, MASS),
  秒: u(1, TIME),
  分钟: u(60, TIME),
  小时: u(3600, TIME),
  焦: u(1, ENERGY),
  焦耳: u(1, ENERGY),
  千焦: u(1000, ENERGY),
  牛: u(1, D(1, 1, -2)),
  牛顿: u(1, D(1, 1, -2)),
  瓦: u(1, D(2, 1, -3)),
  伏: u(1, D(2, 1, -3, -1)),
  伏特: u(1, D(2, 1, -3, -1)),
  安: u(1, D(0, 0, 0, 1)),
  安培: u(1, D(0, 0, 0, 1)),
  欧: u(1, D(2, 1, -3, -2)),
  欧姆: u(1, D(2, 1, -3, -2)),
  帕: u(1, PRESSURE),
  摄氏度: u(1, D(0, 0, 0, 0, 1), 273.15),
  摩尔: u(1, D(0, 0, 0, 0, 0, 1)),
  升: u(1e-3, VOLUME),
  毫升: u(1e-6, VOLUME),
};

/** One unit symbol: a named unit first (so `min` is minutes, `Pa` pascal), then prefix + prefixable unit. */
function lookupSymbol(sym: string): Unit | null {
  const named = NAMED[sym] ?? PREFIXABLE[sym];
  if (named) return named;
  for (const [prefix, scale] of Object.entries(PREFIXES)) {
    if (!sym.startsWith(prefix)) continue;
    const base = PREFIXABLE[sym.slice(prefix.length)];
    if (base) return u(base.factor * scale, base.dims);
  }
  return null;
}

function multiply(a: Unit, b: Unit, power: number): Unit {
  return u(
    a.factor * b.factor ** power,
    a.dims.map((x, i) => x + b.dims[i]! * power) as unknown as Dimensions,
  );
}

/** Prepare unit text: LaTeX multiplication and Greek letters to plain symbols, `^{-1}` to `^-1`. */
function cleanUnitText(text: string): string {
  return text
    .replace(/\\(?:cdot|times)|[·*⋅]/g, " ")
    .replace(/\\Omega/g, "Ω")
    .replace(/\\(?:mu|micro)\s*/g, "μ")
    .replace(/\\AA|\\mathring\{A\}/g, "Å")
    .replace(/\\text|\\mathrm|\\rm/g, "")
    .replace(/\^\s*\{\s*([+-]?\d+(?:\.\d+)?)\s*\}/g, "^$1")
    .replace(/[{}]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * Parse a unit expression (`km/h`, `m s^{-1}`, `kg \cdot m/s^2`, `J/(mol K)`, `°C`, `mol/L`, `\mu m`) into a
 * `Unit`, or null when any part is not a known unit. A `/` divides by the next factor or parenthesised group.
 * @example parseUnit("km/h") // { factor: 0.2777…, dims: [1, 0, -1, 0, 0, 0, 0], offset: 0 }
 */
export function parseUnit(text: string): Unit | null {
  const s = cleanUnitText(text);
  if (s.length === 0 || s.length > 40) return null;
  const lone = NAMED[s];
  if (lone) return lone;
  const tokens = s.match(/\(|\)|\/|[^\s()/^]+(?:\^[+-]?\d+(?:\.\d+)?)?/g);
  if (!tokens) return null;
  let pos = 0;
  // factor := symbol[^n] | "(" product ")"; product := factor (["/"] factor)*
  const parseProduct = (): Unit | null => {
    let acc = u(1, NONE);
    let sign = 1;
    while (pos < tokens.length && tokens[pos] !== ")") {
      const tok = tokens[pos++]!;
      if (tok === "/") {
        sign = -1;
        continue;
      }
      let part: Unit | null;
      if (tok === "(") {
        part = parseProduct();
        if (tokens[pos++] !== ")") return null;
      } else {
        const [sym, exp] = tok.split("^");
        const base = lookupSymbol(sym!);
        // Offset units (°C) only make sense alone, not inside a product.
        if (!base) return null;
        if (base.offset !== 0) return null;
        part = multiply(u(1, NONE), base, exp === undefined ? 1 : Number(exp));
      }
      if (!part) return null;
      acc = multiply(acc, part, sign);
      sign = 1;
    }
    return acc;
  };
  const unit = parseProduct();
  return unit && pos === tokens.length ? unit : null;
}

/** True when two units measure the same kind of quantity. */
export function sameDimensions(a: Unit, b: Unit): boolean {
  return a.dims.every((x, i) => Math.abs(x - b.dims[i]!) < 1e-9);
}

/** A value in SI base units. */
export function toSI(value: number, unit: Unit): number {
  return value * unit.factor + unit.offset;
}

/** An answer split into the text of its value and its unit (null when it carries none). */
export type QuantityText = { valueText: string; unitText: string; unit: Unit | null };

/**
 * Split a trailing unit off an answer: `5 km` → (`5`, km), `3 \times 10^8 m/s` → (`3 \times 10^8`, m/s),
 * `25°C` → (`25`, °C). The longest suffix that parses as a unit wins; the value must keep no bare letters
 * (so `2x` is not "2 of unit x"). Without a unit the whole text is the value.
 * @example splitQuantity("1.5 kg").valueText // "1.5"
 */
export function splitQuantity(text: string): QuantityText {
  const s = text.trim();
  const none: QuantityText = { valueText: s, unitText: "", unit: null };
  if (s.length > 200) return none;
  for (let i = 1; i < s.length; i++) {
    const prev = s[i - 1]!;
    const here = s[i]!;
    const boundary = /\s/.test(prev)
      ? !/\s/.test(here)
      : /[\d}).]/.test(prev) && /[^\d\s.,+\-=<>^_{}()[\]]/.test(here);
    if (!boundary) continue;
    const valueText = s.slice(0, i).trim();
    if (
      valueText.length === 0 ||
      /[a-zA-Z\u4e00-\u9fff]/.test(valueText.replace(/\\[a-zA-Z]+|\d[eE][+-]?\d/g, ""))
    ) {
      continue;
    }
    if (/\\(?:times|cdot)$|[+\-*/^_]$/.test(valueText)) continue;
    const unitText = s.slice(i).trim();
    const unit = parseUnit(unitText);
    if (unit) return { valueText, unitText, unit };
  }
  return none;
}
