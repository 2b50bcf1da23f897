/**
 * Reading the text of an instruction item: `fields.messages` in the OpenAI chat shape (`{ role, content }`, content a
 * string or a list of parts whose `text` parts are joined), or plain text fields. The instruct stages read items
 * through here so they agree on what "the question" and "the answer" of an item are.
 */

/** One chat turn as the instruct stages see it: its role and its text (image parts left out). */
export type ChatTurn = { role: string; text: string };

/** The text of a message's content: a string, or the `text` of each `{ type: "text" }` part, joined by newlines. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const parts: string[] = [];
  for (const part of content) {
    if (typeof part === "string") parts.push(part);
    else if (part && typeof part === "object" && typeof (part as { text?: unknown }).text === "string")
      parts.push((part as { text: string }).text);
  }
  return parts.join("\n");
}

/** The turns of `fields.messages` (entries that are not `{ role: string }` objects are skipped). */
export function chatTurns(fields: Record<string, unknown>): ChatTurn[] {
  const messages = fields.messages;
  if (!Array.isArray(messages)) return [];
  const turns: ChatTurn[] = [];
  for (const m of messages) {
    if (!m || typeof m !== "object") continue;
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role === "string") turns.push({ role, text: contentText(content) });
  }
  return turns;
}

/** The string fields named in `names` that the item has, in that order. */
export function textFields(fields: Record<string, unknown>, names: readonly string[]): string[] {
  return names.flatMap((n) => (typeof fields[n] === "string" ? [fields[n] as string] : []));
}

/**
 * What a person asked in the item: the user turns of `fields.messages`, then the named text fields (`question`, …).
 * @example questionTexts({ messages: [{ role: "user", content: "Why?" }] }, ["question"]) // ["Why?"]
 */
export function questionTexts(fields: Record<string, unknown>, names: readonly string[]): string[] {
  const asked = chatTurns(fields)
    .filter((t) => t.role === "user")
    .map((t) => t.text);
  return [...asked, ...textFields(fields, names)];
}
