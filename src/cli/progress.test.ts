import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgress } from "./progress.ts";

/** A writable that records what is drawn, posing as a terminal or not. */
function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: () => string } {
  let out = "";
  const w = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  Object.assign(w, {
    isTTY,
    columns: 100,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  return { stream: w as unknown as NodeJS.WriteStream, written: () => out };
}

describe("createProgress", () => {
  it("is silent when the stream is not a terminal", () => {
    const { stream, written } = fakeStream(false);
    const bar = createProgress(10, { stream, label: "scoring" });
    bar.tick(5);
    bar.stop();
    expect(written()).toBe("");
  });

  it("draws a labelled bar on a terminal and stops once", () => {
    const { stream, written } = fakeStream(true);
    const bar = createProgress(4, { stream, label: "scoring" });
    bar.tick(4);
    bar.stop();
    bar.stop();
    bar.tick();
    expect(written()).toMatch(/scoring \[.*\] 100% 4\/4/);
  });
});
