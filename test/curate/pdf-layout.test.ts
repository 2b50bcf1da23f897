import { describe, expect, it } from "vitest";
import type { PageBox } from "../../src/curate/stages/interleaved/document.ts";
import { matchEmbedded, parseImageList } from "../../src/curate/stages/interleaved/pdf-images.ts";
import {
  findFigureBoxes,
  parseBboxLayout,
  readingOrder,
} from "../../src/curate/stages/interleaved/pdf-layout.ts";

const b = (name: string, box: PageBox) => ({ name, box });
const names = (xs: { name: string }[]) => xs.map((x) => x.name);

describe("readingOrder", () => {
  it("reads a single column top to bottom, whatever the input order", () => {
    const blocks = [b("c", [50, 300, 550, 400]), b("a", [50, 50, 550, 100]), b("b", [50, 120, 300, 280])];
    expect(names(readingOrder(blocks))).toEqual(["a", "b", "c"]);
  });

  it("reads two columns left then right, in bands cut by a title, a wide figure and a footer", () => {
    const blocks = [
      b("footer", [50, 700, 400, 710]),
      b("R2", [310, 400, 550, 500]),
      b("L2", [50, 400, 290, 520]),
      b("wide-figure", [50, 300, 550, 380]),
      b("R1", [310, 80, 550, 280]),
      b("L1b", [50, 180, 290, 280]),
      b("L1a", [50, 80, 290, 170]),
      b("title", [50, 30, 450, 60]),
    ];
    expect(names(readingOrder(blocks))).toEqual([
      "title",
      "L1a",
      "L1b",
      "R1",
      "wide-figure",
      "L2",
      "R2",
      "footer",
    ]);
  });

  it("reads three columns left to right", () => {
    const blocks = [
      b("C3", [400, 50, 550, 600]),
      b("C1b", [50, 330, 190, 600]),
      b("C2", [225, 50, 365, 600]),
      b("C1a", [50, 50, 190, 300]),
    ];
    expect(names(readingOrder(blocks))).toEqual(["C1a", "C1b", "C2", "C3"]);
  });
});

describe("parseBboxLayout", () => {
  it("reads pages, blocks and boxes, decodes entities, mends hyphenated line breaks and skips empty blocks", () => {
    const xhtml = `<doc>
  <page width="600.000000" height="750.000000">
    <flow><block xMin="10.5" yMin="20" xMax="200" yMax="60">
      <line xMin="10.5" yMin="20" xMax="200" yMax="30"><word xMin="1" yMin="1" xMax="2" yMax="2">Rivers</word><word xMin="1" yMin="1" xMax="2" yMax="2">&amp;</word><word xMin="1" yMin="1" xMax="2" yMax="2">val-</word></line>
      <line xMin="10.5" yMin="40" xMax="200" yMax="60"><word xMin="1" yMin="1" xMax="2" yMax="2">leys</word><word xMin="1" yMin="1" xMax="2" yMax="2">&lt;3&#x21;</word></line>
    </block>
    <block xMin="0" yMin="0" xMax="1" yMax="1"><line xMin="0" yMin="0" xMax="1" yMax="1"><word xMin="0" yMin="0" xMax="1" yMax="1"> </word></line></block></flow>
  </page>
  <page width="300" height="400">
  </page>
</doc>`;
    expect(parseBboxLayout(xhtml)).toEqual([
      { width: 600, height: 750, blocks: [{ text: "Rivers & valleys <3!", box: [10.5, 20, 200, 60] }] },
      { width: 300, height: 400, blocks: [] },
    ]);
  });
});

describe("findFigureBoxes", () => {
  it("finds drawn regions outside the text, joins close parts and leaves out thin rules", () => {
    const [width, height] = [200, 200]; // 1 px per point
    const grey = new Uint8Array(width * height).fill(255);
    const fill = (x0: number, y0: number, x1: number, y1: number, v: number) => {
      for (let y = y0; y < y1; y++) grey.fill(v, y * width + x0, y * width + x1);
    };
    fill(20, 20, 60, 100, 40); // two bars 10 pt apart: one figure
    fill(70, 40, 110, 100, 90);
    fill(20, 150, 180, 152, 0); // a rule: too thin
    fill(130, 20, 190, 60, 0); // "text": masked by its box
    const boxes = findFigureBoxes({ grey, width, height, scale: 1 }, [[130, 20, 190, 60]], {
      minSide: 32,
      mergeGap: 18,
    });
    expect(boxes).toEqual([[20, 20, 110, 100]]);
  });
});

describe("embedded images", () => {
  const listing = `page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio
--------------------------------------------------------------------------------------------
   1     0 image     440   300  icc     3   8  image  no         6  0   144   144 1935B 0.5%
   1     1 smask     440   300  gray    1   8  image  no         7  0   144   144  100B 0.1%
   2     2 image     600   240  rgb     3   8  jpeg   no         9  0    86    86 9.1K 2.1%
   2     3 image     600   240  rgb     3   8  jpeg   no        10  0    86    86 9.1K 2.1%`;

  it("reads pdfimages -list, leaving out soft masks", () => {
    expect(parseImageList(listing).map((i) => [i.page, i.num, i.width, i.height, i.xPpi])).toEqual([
      [1, 0, 440, 300, 144],
      [2, 2, 600, 240, 86],
      [2, 3, 600, 240, 86],
    ]);
  });

  it("matches a figure to the one image whose placed size holds it, and refuses ambiguous or misfit ones", () => {
    const images = parseImageList(listing);
    const page1 = images.filter((i) => i.page === 1); // placed 220×150 pt
    expect(matchEmbedded([[60, 200, 265, 340]], page1).map((i) => i?.num)).toEqual([0]);
    expect(matchEmbedded([[60, 200, 160, 260]], page1)).toEqual([undefined]); // too small: part of something else
    const page2 = images.filter((i) => i.page === 2); // two images of the same placed size
    expect(matchEmbedded([[50, 100, 550, 300]], page2)).toEqual([undefined]);
  });
});
