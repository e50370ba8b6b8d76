// JSON text handled as text: the payload's 64-bit ids (Nuvei's transactionId) must reach the
// operator digit for digit, which JSON.parse would round. No DOM, so Vitest checks it too.

const WHITESPACE = " \t\r\n";

function skipWs(text: string, i: number): number {
  let at = i;
  while (at < text.length && WHITESPACE.includes(text.charAt(at))) at++;
  return at;
}

/** The index after the string literal that starts at `i`, or -1 when it never ends. */
function skipString(text: string, i: number): number {
  for (let at = i + 1; at < text.length; at++) {
    if (text[at] === "\\") at++;
    else if (text[at] === '"') return at + 1;
  }
  return -1;
}

function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first === "{" || first === "[") {
    let depth = 0;
    for (let at = i; at < text.length; at++) {
      const c = text[at];
      if (c === '"') {
        const end = skipString(text, at);
        if (end < 0) return -1;
        at = end - 1;
      } else if (c === "{" || c === "[") {
        depth++;
      } else if (c === "}" || c === "]") {
        depth--;
        if (depth === 0) return at + 1;
      }
    }
    return -1;
  }
  let at = i;
  while (at < text.length && !",}] \t\r\n".includes(text.charAt(at))) at++;
  return at;
}

/** The raw text of a top-level member of a JSON object, or null when it is absent or the text is not an object. */
export function rawMember(text: string, name: string): string | null {
  let i = skipWs(text, 0);
  if (text[i] !== "{") return null;
  i++;
  for (;;) {
    i = skipWs(text, i);
    if (text[i] !== '"') return null;
    const keyEnd = skipString(text, i);
    if (keyEnd < 0) return null;
    const key: unknown = JSON.parse(text.slice(i, keyEnd));
    i = skipWs(text, keyEnd);
    if (text[i] !== ":") return null;
    i = skipWs(text, i + 1);
    const end = skipValue(text, i);
    if (end < 0) return null;
    if (key === name) return text.slice(i, end);
    i = skipWs(text, end);
    if (text[i] !== ",") return null;
    i++;
  }
}

/** Re-indents JSON text by two spaces without parsing its numbers; text that is not JSON comes back as it was. */
export function prettyJson(text: string): string {
  let out = "";
  let depth = 0;
  const pad = (d: number) => `\n${"  ".repeat(Math.max(0, d))}`;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '"') {
      const end = skipString(text, i);
      if (end < 0) return text;
      out += text.slice(i, end);
      i = end - 1;
    } else if (WHITESPACE.includes(c)) {
      // dropped: the output has its own layout
    } else if (c === "{" || c === "[") {
      const next = skipWs(text, i + 1);
      if (text[next] === (c === "{" ? "}" : "]")) {
        out += c + text.charAt(next);
        i = next;
        continue;
      }
      depth++;
      out += c + pad(depth);
    } else if (c === "}" || c === "]") {
      depth--;
      out += pad(depth) + c;
    } else if (c === ",") {
      out += `,${pad(depth)}`;
    } else if (c === ":") {
      out += ": ";
    } else {
      out += c;
    }
  }
  return out;
}
