import { describe, expect, it } from "vitest";
import { parseUnit, sameDimensions, splitQuantity, toSI } from "./units.ts";

const si = (text: string, value = 1): number => {
  const unit = parseUnit(text);
  if (!unit) throw new Error(`no unit ${text}`);
  return toSI(value, unit);
};

describe("parseUnit", () => {
  it.each([
    ["km", 1000],
    ["cm", 0.01],
    ["\\mu m", 1e-6],
    ["μs", 1e-6],
    ["mg", 1e-6],
    ["kg", 1],
    ["km/h", 1 / 3.6],
    ["m s^{-1}", 1],
    ["kJ", 1000],
    ["kPa", 1000],
    ["atm", 101325],
    ["mL", 1e-6],
    ["mM", 1],
    ["M", 1000],
    ["min", 60],
    ["eV", 1.602176634e-19],
    ["J/(mol K)", 1],
  ])("1 %s = %d SI", (text, want) => {
    expect(si(text)).toBeCloseTo(want, 12);
  });
  it("temperatures carry an offset", () => {
    expect(si("°C", 25)).toBeCloseTo(298.15, 9);
    expect(si("°F", 32)).toBeCloseTo(273.15, 9);
    expect(si("K", 300)).toBe(300);
  });
  it("dimensions decide comparability", () => {
    expect(sameDimensions(parseUnit("N")!, parseUnit("kg m/s^2")!)).toBe(true);
    expect(sameDimensions(parseUnit("J")!, parseUnit("N \\cdot m")!)).toBe(true);
    expect(sameDimensions(parseUnit("M")!, parseUnit("mol/L")!)).toBe(true);
    expect(sameDimensions(parseUnit("J")!, parseUnit("W")!)).toBe(false);
  });
  it("rejects non-units", () => {
    expect(parseUnit("apples")).toBeNull();
    expect(parseUnit("x")).toBeNull();
    expect(parseUnit("°C/s")).toBeNull();
  });
});

describe("splitQuantity", () => {
  it("splits the longest trailing unit", () => {
    expect(splitQuantity("5 km")).toMatchObject({ valueText: "5", unitText: "km" });
    expect(splitQuantity("3 \\times 10^8 m/s")).toMatchObject({
      valueText: "3 \\times 10^8",
      unitText: "m/s",
    });
    expect(splitQuantity("25°C")).toMatchObject({ valueText: "25", unitText: "°C" });
    expect(splitQuantity("\\frac{1}{2} kg")).toMatchObject({ valueText: "\\frac{1}{2}", unitText: "kg" });
  });
  it("leaves expressions alone", () => {
    expect(splitQuantity("2x").unit).toBeNull();
    expect(splitQuantity("42").unit).toBeNull();
  });
});
