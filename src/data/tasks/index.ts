/** Public surface of the synthetic verifiable task families (issue 5). */
export { BAR_LABELS, CHART, chartLayout } from "./chart.ts";
export {
  type Box,
  boxCentre,
  boxIou,
  formatBox,
  formatPoint,
  type Point,
  parseBox,
  parsePoint,
  pixelRectToBox,
  pointInBox,
} from "./coords.ts";
export { sftTarget } from "./cot.ts";
export { COUNTING } from "./counting.ts";
export { inkBounds, readText } from "./glyph-reader.ts";
export { cellBox, GROUNDING } from "./grounding.ts";
export { BUTTON_LABELS, GUI } from "./gui.ts";
export { evaluateExpression, MATH } from "./math.ts";
export { OCR, OCR_ALPHABET } from "./ocr.ts";
export { encodePng, writePng } from "./png.ts";
export { createRaster, drawText, fillDisc, fillRect, type Rgb, type RgbImage } from "./raster.ts";
export { buildSuite, contentHash, GENERATORS, type SuiteOptions, splitOfHash } from "./suite.ts";
export {
  DEFAULT_IMAGE_SIZE,
  type GenerateRequest,
  MIN_IMAGE_SIZE,
  SPLITS,
  type Split,
  TASK_FAMILIES,
  type TaskContent,
  type TaskFamily,
  type TaskGenerator,
  type TaskItem,
  TEXT_CHARSET,
} from "./types.ts";
