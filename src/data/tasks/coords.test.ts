import { describe, expect, it } from "vitest";
import { boxCentre, boxIou, formatBox, parseBox, parsePoint, pixelRectToBox, pointInBox } from "./coords.ts";

describe("0–999 coordinates", () => {
  it("maps the cells of a 4 × 4 grid to quarter boxes at any size", () => {
    for (const size of [28, 56, 112]) {
      const c = size / 4;
      expect(pixelRectToBox(0, 0, c, c, size, size)).toEqual([0, 0, 249, 249]);
      expect(pixelRectToBox(3 * c, c, c, c, size, size)).toEqual([750, 250, 999, 499]);
    }
  });

  it("formats and parses boxes and points", () => {
    expect(formatBox([1, 2, 3, 4])).toBe("[1,2,3,4]");
    expect(parseBox("[10, 20,30,40]")).toEqual([10, 20, 30, 40]);
    expect(parseBox("[10,20,30,1000]")).toBeNull();
    expect(parseBox("[30,20,10,40]")).toBeNull();
    expect(parseBox("[1,2,3]")).toBeNull();
    expect(parsePoint("[5,999]")).toEqual([5, 999]);
    expect(parsePoint("[5,9,9]")).toBeNull();
  });

  it("computes IoU and point-in-box", () => {
    expect(boxIou([0, 0, 9, 9], [0, 0, 9, 9])).toBe(1);
    expect(boxIou([0, 0, 9, 9], [10, 10, 19, 19])).toBe(0);
    expect(boxIou([0, 0, 9, 9], [5, 0, 14, 9])).toBeCloseTo(50 / 150);
    expect(pointInBox(boxCentre([250, 500, 499, 749]), [250, 500, 499, 749])).toBe(true);
    expect(pointInBox([500, 500], [250, 500, 499, 749])).toBe(false);
  });
});
