/**
 * Generated web pages for GUI grounding when no folder of saved pages is given: a navigation bar of links, a
 * heading, a form of labelled text boxes, a drop-down, checkboxes and buttons, footer links, and sometimes a fixed
 * cookie banner that covers part of the page (so covered nodes occur) and a `display:none` button (so hidden
 * ones do). Laid out by Chromium with system fonts. `buttonsPage` wraps glmv's synthetic button page
 * (`buildGuiPage`) with accessible names. Pure: the same RNG state gives the same HTML.
 */
import { buildGuiPage } from "../../data/gui-pages.ts";
import type { Rng } from "../../util/rng.ts";
import { escapeHtml } from "./common.ts";

const NAV = ["Home", "About", "Products", "Pricing", "Blog", "Contact", "Help", "Careers", "News", "Docs"];
const TITLES = ["Create account", "Sign in", "Checkout", "Contact us", "Settings", "Book a table", "Profile"];
const FIELDS = [
  "Full name",
  "Email",
  "Password",
  "Phone",
  "City",
  "Address",
  "Company",
  "Username",
  "Postcode",
];
const CHECKS = [
  "Remember me",
  "Subscribe to newsletter",
  "I agree to the terms",
  "Send me offers",
  "Keep me signed in",
];
const BUTTONS = ["Save", "Cancel", "Submit", "Reset", "Next", "Back", "Continue", "Delete", "Sign up"];
const FOOTER = ["Privacy", "Terms", "Cookies", "Status", "Sitemap"];
const SELECTS = ["Country", "Language", "Plan", "Size"];
const FONTS = ["DejaVu Sans", "Liberation Sans", "DejaVu Serif", "Liberation Serif"];
const ACCENTS = ["#1f6feb", "#2da44e", "#cf222e", "#8250df", "#bf8700", "#0a7ea4"];

/** A page of form controls sized to the viewport. */
export function formsPage(rng: Rng, width: number, height: number): string {
  const accent = rng.pick(ACCENTS);
  const font = rng.pick(FONTS);
  const fontPx = rng.int(13, 17);
  const e = escapeHtml;
  const nav = rng
    .shuffle(NAV)
    .slice(0, rng.int(3, 5))
    .map(
      (l) =>
        `<a href="#${l.toLowerCase()}" style="color:${accent};margin-right:${rng.int(12, 28)}px">${e(l)}</a>`,
    )
    .join("");
  const labelWidth = rng.int(90, 130);
  const fields = rng
    .shuffle(FIELDS)
    .slice(0, rng.int(2, 4))
    .map((f, i) => {
      const input =
        `<input id="f${i}" type="${f === "Password" ? "password" : f === "Email" ? "email" : "text"}"` +
        `${rng.float() < 0.4 ? ` placeholder="${e(f.toLowerCase())}"` : ""} style="width:${rng.int(160, 260)}px;padding:4px">`;
      const label = `<label for="f${i}" style="display:inline-block;width:${labelWidth}px">${e(f)}</label>`;
      return `<div style="margin:${rng.int(6, 12)}px 0">${label}${input}</div>`;
    })
    .join("");
  const select =
    rng.float() < 0.5
      ? (() => {
          const name = rng.pick(SELECTS);
          return `<div style="margin:8px 0"><label for="s0" style="display:inline-block;width:${labelWidth}px">${e(name)}</label><select id="s0"><option>One</option><option>Two</option></select></div>`;
        })()
      : "";
  const checks = rng
    .shuffle(CHECKS)
    .slice(0, rng.int(1, 2))
    .map(
      (c, i) =>
        `<div style="margin:6px 0"><input type="checkbox" id="c${i}"><label for="c${i}"> ${e(c)}</label></div>`,
    )
    .join("");
  const buttons = rng
    .shuffle(BUTTONS)
    .slice(0, rng.int(1, 3))
    .map(
      (b, i) =>
        `<button type="button" style="margin-right:10px;padding:${rng.int(4, 8)}px ${rng.int(10, 18)}px;` +
        `${i === 0 ? `background:${accent};color:#fff;border:0` : ""}">${e(b)}</button>`,
    )
    .join("");
  const hidden = rng.float() < 0.5 ? `<button style="display:none">${e(rng.pick(BUTTONS))} all</button>` : "";
  const footer = rng
    .shuffle(FOOTER)
    .slice(0, rng.int(2, 3))
    .map((l) => `<a href="#${l.toLowerCase()}" style="margin-right:14px;color:#555">${e(l)}</a>`)
    .join("");
  const banner =
    rng.float() < 0.3
      ? `<div style="position:fixed;left:0;right:0;bottom:0;height:${Math.round(height * 0.18)}px;background:#222;color:#eee;padding:10px 16px;box-sizing:border-box">` +
        `We use cookies. <button type="button">Accept cookies</button></div>`
      : "";
  const side = rng.pick(["0 auto", `0 0 0 ${rng.int(0, 40)}px`]);
  return (
    `<!doctype html><html><head><meta charset="utf-8"></head>` +
    `<body style="margin:0;width:${width}px;min-height:${height}px;font:${fontPx}px '${font}';background:#fff;color:#222">` +
    `<nav style="padding:10px 16px;border-bottom:1px solid #ddd">${nav}</nav>` +
    `<main style="max-width:${Math.round(width * (0.6 + rng.float() * 0.3))}px;margin:${side};padding:12px 16px">` +
    `<h1 style="font-size:1.6em;margin:8px 0 12px">${e(rng.pick(TITLES))}</h1>` +
    `<form onsubmit="return false">${fields}${select}${checks}<div style="margin-top:14px">${buttons}${hidden}</div></form></main>` +
    `<footer style="padding:10px 16px;border-top:1px solid #ddd;margin-top:16px">${footer}</footer>${banner}</body></html>`
  );
}

/**
 * glmv's synthetic button page (`buildGuiPage`, level 1–3, square) with each button's label as its accessible
 * name: its labels are drawn as pixels, so the name comes from `aria-label`.
 */
export function buttonsPage(rng: Rng, size: number): string {
  const page = buildGuiPage(rng, rng.int(1, 3), size);
  return page.html.replace(/data-label="([^"]*)"/g, 'data-label="$1" aria-label="$1"');
}
