/**
 * The document half of the generated curation sample: a two-column paper as a real PDF (printed by Chromium, with a
 * figure and a QR-code ad among its images) for the PDF → interleaved-pages stage, and a folder of saved HTML pages
 * (forms, menus, a hidden and a covered control) for GUI grounding.
 */
import QRCode from "qrcode";
import sharp from "sharp";
import { launchGuiBrowser } from "../../data/gui-pages.ts";
import { escapeHtml } from "../../util/html.ts";

const PARAGRAPHS = [
  "Vision-language models learn to reason over charts, documents and natural images when the pre-training data is clean.",
  "We describe a pipeline that filters image-text pairs by resolution, colour diversity and caption quality before deduplication.",
  "Near-duplicate images are removed with a perceptual hash compared across every shard of the corpus.",
  "Figure 1 shows the share of items each stage removes; deduplication and solid-colour filtering remove the most.",
  "Interleaved documents are parsed from PDF into text blocks and figures in reading order, one item per page.",
  "Advertising images and QR codes are dropped from web documents because they carry no knowledge about the article.",
];

/** A bar chart as PNG bytes: the paper's Figure 1. */
async function figure(): Promise<Buffer> {
  const bars = [62, 40, 25, 12]
    .map(
      (h, i) => `<rect x="${30 + i * 70}" y="${180 - h * 2}" width="40" height="${h * 2}" fill="#1f77b4"/>`,
    )
    .join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200"><rect width="100%" height="100%" fill="#fff"/>${bars}<line x1="20" y1="180" x2="310" y2="180" stroke="#000"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

function paperHtml(figurePng: Buffer, adPng: Buffer): string {
  const dataUrl = (png: Buffer) => `data:image/png;base64,${png.toString("base64")}`;
  const paras = (from: number, to: number) =>
    PARAGRAPHS.slice(from, to)
      .map((p) => `<p>${escapeHtml(p)}</p>`)
      .join("");
  return `<!doctype html><html><head><style>
body{font-family:"DejaVu Serif";font-size:12pt;margin:0} h1{text-align:center;font-size:18pt}
.cols{column-count:2;column-gap:28px} img{display:block;max-width:100%} .cap{font-size:10pt;font-style:italic}
</style></head><body><h1>Curating Data for Reasoning VLMs</h1><div class="cols">
<h2>1 Introduction</h2>${paras(0, 2)}<img src="${dataUrl(figurePng)}" alt="figure"><p class="cap">Figure 1: items removed per stage.</p>
<h2>2 Method</h2>${paras(2, 4)}<img src="${dataUrl(adPng)}" alt="ad" style="width:120px"><h2>3 Documents</h2>${paras(4, 6)}
</div><div style="break-before:page"><h2>4 Conclusion</h2><p>Clean data first; the model follows.</p></div></body></html>`;
}

/**
 * Print the paper to PDF with Chromium (A4, two pages).
 * @example await writeFile("paper.pdf", await makeSamplePdf());
 */
export async function makeSamplePdf(): Promise<Uint8Array> {
  const ad = await QRCode.toBuffer("https://ads.example.com/buy-now", { type: "png", width: 160, margin: 2 });
  const html = paperHtml(await figure(), ad);
  const browser = await launchGuiBrowser();
  try {
    const tab = await browser.context.newPage();
    await tab.setContent(html, { waitUntil: "load" });
    const pdf = await tab.pdf({
      format: "A4",
      printBackground: true,
      margin: { top: "18mm", bottom: "18mm" },
    });
    return new Uint8Array(pdf);
  } finally {
    await browser.close();
  }
}

const PAGE_STYLE =
  "body{font-family:'DejaVu Sans';margin:0;width:800px;height:600px;position:relative;background:#fafafa}" +
  "button,input,a,select{position:absolute;font-size:16px}";

/** Saved HTML pages with absolutely placed controls (known layout), each with a hidden and a covered control. */
export const SAMPLE_PAGES: Record<string, string> = {
  "login.html": `<h1 style="position:absolute;left:40px;top:10px">Sign in</h1>
<input aria-label="Email" style="left:40px;top:100px;width:300px" placeholder="Email">
<input aria-label="Password" type="password" style="left:40px;top:150px;width:300px" placeholder="Password">
<button style="left:40px;top:210px">Sign in</button><a href="#reset" style="left:160px;top:215px">Forgot password?</a>
<button style="left:40px;top:300px;display:none">Hidden admin</button>
<button style="left:400px;top:100px">Covered help</button><div style="position:absolute;left:390px;top:90px;width:200px;height:60px;background:#fafafa"></div>`,
  "settings.html": `<h1 style="position:absolute;left:40px;top:10px">Settings</h1>
<label style="position:absolute;left:40px;top:100px"><input type="checkbox" aria-label="Dark mode" style="position:static"> Dark mode</label>
<select aria-label="Language" style="left:40px;top:150px"><option>English</option><option>中文</option></select>
<button style="left:40px;top:220px">Save</button><button style="left:120px;top:220px">Cancel</button>
<a href="#privacy" style="left:40px;top:300px">Privacy policy</a><button style="left:40px;top:400px;visibility:hidden">Ghost</button>`,
  "shop.html": `<h1 style="position:absolute;left:40px;top:10px">Blue Kettle</h1>
<a href="#home" style="left:600px;top:20px">Home</a><a href="#cart" style="left:680px;top:20px">Cart</a>
<button style="left:40px;top:400px">Add to cart</button><button style="left:200px;top:400px">Buy now</button>
<input aria-label="Quantity" type="number" value="1" style="left:40px;top:340px;width:80px">
<a href="#reviews" style="left:40px;top:480px">Read 12 reviews</a>`,
  "search.html": `<input aria-label="Search" style="left:40px;top:30px;width:500px" placeholder="Search">
<button style="left:560px;top:30px">Search</button>
<a href="#r1" style="left:40px;top:100px">Curating web data at scale</a>
<a href="#r2" style="left:40px;top:150px">Perceptual hashing explained</a>
<a href="#r3" style="left:40px;top:200px">QR codes in the wild</a><button style="left:40px;top:520px">Next page</button>`,
};

/** The controls of `SAMPLE_PAGES` a GUI-grounding source must leave out: hidden by CSS or covered by another node. */
export const HIDDEN_CONTROLS = ["Hidden admin", "Covered help", "Ghost"] as const;

/** A saved page as a whole document (the pages above are bodies). */
export const pageDocument = (title: string, body: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head><body>${body}</body></html>`;
