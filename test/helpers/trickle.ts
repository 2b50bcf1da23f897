/**
 * Test helper: a client that sends a request's headers and then trickles its body one byte at a time, never
 * finishing, the way a slow-loris client holds a server's socket. Resolves with what the server answered before it
 * closed the connection, or with `closed: false` once `giveUpMs` passed and the server still held the socket.
 */
import { connect } from "node:net";

export type TrickleResult = { closed: boolean; answer: string };

/** Trickle a POST to `url` (http://host:port/path) one byte every `everyMs`, for at most `giveUpMs`. */
export function trickleBody(url: string, everyMs = 50, giveUpMs = 10_000): Promise<TrickleResult> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve) => {
    let answer = "";
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
      );
    });
    const drip = setInterval(() => {
      if (socket.writable) socket.write(" ");
    }, everyMs);
    const giveUp = setTimeout(() => {
      clearInterval(drip);
      socket.destroy();
      resolve({ closed: false, answer });
    }, giveUpMs);
    socket.on("data", (d) => {
      answer += String(d);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve({ closed: true, answer });
    });
  });
}
