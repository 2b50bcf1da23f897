/** Real PDFs for the PDF tests, printed by Debian's Chromium (playwright-core's page.pdf) from HTML the test writes. */
import sharp from "sharp";
import { launchGuiBrowser } from "../../../src/data/gui-pages.ts";

/** A bar chart with axes as PNG (440×300): five bars rising from blue to red. */
export async function barChartPng(): Promise<Buffer> {
  const [w, h] = [440, 300];
  const raw = Buffer.alloc(w * h * 3, 255);
  const paint = (x0: number, y0: number, x1: number, y1: number, rgb: number[]) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) raw.set(rgb, (y * w + x) * 3);
  };
  paint(20, 10, 23, h - 10, [0, 0, 0]); // y axis
  paint(20, h - 13, w - 10, h - 10, [0, 0, 0]); // x axis
  for (let b = 0; b < 5; b++)
    paint(40 + b * 80, h - 50 * (b + 1) - 13, 90 + b * 80, h - 13, [40 * b, 90, 200 - 30 * b]);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

/** Print each HTML document to a PDF (600×750 pt pages, no margins; each `<section>` breaks to a new page). */
export async function htmlToPdfs(htmls: string[]): Promise<Uint8Array[]> {
  const browser = await launchGuiBrowser();
  try {
    const tab = await browser.context.newPage();
    const out: Uint8Array[] = [];
    for (const html of htmls) {
      await tab.setContent(html, { waitUntil: "load" });
      out.push(
        new Uint8Array(
          await tab.pdf({
            width: "800px",
            height: "1000px",
            printBackground: true,
            margin: { top: "0", bottom: "0", left: "0", right: "0" },
          }),
        ),
      );
    }
    return out;
  } finally {
    await browser.close();
  }
}

const para = (label: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${label} sentence ${i + 1} tells about rivers and valleys.`).join(" ");

/**
 * A two-column paper page: a full-width title, a left column with two paragraphs and a figure (a bar chart PNG),
 * a right column with two paragraphs, then a full-width footer; a second page with a paragraph, a full-width photo
 * and a paragraph; a third page blank.
 */
export function twoColumnHtml(chartPng: Uint8Array, photoJpeg: Uint8Array): string {
  const src = `data:image/png;base64,${Buffer.from(chartPng).toString("base64")}`;
  const photo = `data:image/jpeg;base64,${Buffer.from(photoJpeg).toString("base64")}`;
  return `<!doctype html><html><head><style>
  body { margin: 0; font-family: "DejaVu Serif"; font-size: 11pt; line-height: 1.3; }
  section { width: 800px; height: 1000px; box-sizing: border-box; padding: 48pt; page-break-after: always; position: relative; }
  h1 { font-size: 20pt; margin: 0 0 18pt 0; }
  .cols { display: flex; gap: 30pt; }
  .col { flex: 1; }
  p { margin: 0 0 12pt 0; }
  img { display: block; width: 220pt; height: 150pt; margin: 6pt 0 12pt 0; }
  img.wide { width: 500pt; height: 200pt; }
  footer { position: absolute; left: 48pt; right: 48pt; bottom: 48pt; font-size: 9pt; }
</style></head><body>
<section>
  <h1>TITLEWORD A Study of Rivers</h1>
  <div class="cols">
    <div class="col"><p>LEFTONE ${para("Left one", 6)}</p><img src="${src}"><p>LEFTTWO ${para("Left two", 4)}</p></div>
    <div class="col"><p>RIGHTONE ${para("Right one", 6)}</p><p>RIGHTTWO ${para("Right two", 6)}</p></div>
  </div>
  <footer>FOOTERWORD Proceedings of the Valley Society, page one.</footer>
</section>
<section><p>PAGETWO ${para("Second page", 5)}</p><img class="wide" src="${photo}"><p>AFTERPHOTO ${para("After", 3)}</p></section>
<section></section>
</body></html>`;
}
