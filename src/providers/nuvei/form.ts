import { type Failure, fail, ok, type Result } from "../../result";
import { MAX_JSON_DEPTH } from "../json";

// Names that would reach an object's prototype chain. Everything else, `toString` and
// `hasOwnProperty` included, is an ordinary field: nodes have no prototype to shadow.
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "prototype", "constructor"]);

type Node = Record<string, unknown>;
const node = (): Node => Object.create(null);

/**
 * application/x-www-form-urlencoded decoding that refuses what URLSearchParams would
 * repair: an escape that is not `%` and two hex digits, or bytes that are not UTF-8
 * (`%FF%FE`), would become U+FFFD, and the stored payload would no longer be what was
 * signed. decodeURIComponent throws on both.
 */
function decodeComponent(text: string): string | null {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return null;
  }
}

/**
 * Nuvei's name-value-pair webhooks use dotted names (`result.status=approved`); they become
 * the same nested shape as the JSON webhook. Values stay strings, as sent.
 */
export function parseDottedForm(text: string): Result<Node, Failure<"payload_invalid">> {
  const root = node();
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? "" : decodeComponent(pair.slice(eq + 1));
    if (name === null || value === null) {
      return fail("payload_invalid", `invalid percent-encoding in ${JSON.stringify(pair.slice(0, 64))}`);
    }
    const path = name.split(".");
    // The same bound as for JSON bodies: what is accepted here must be storable and readable.
    if (path.length > MAX_JSON_DEPTH)
      return fail("payload_invalid", `field name nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (path.some((segment) => segment === "" || FORBIDDEN_SEGMENTS.has(segment))) {
      return fail("payload_invalid", `field name not allowed: ${name.slice(0, 64)}`);
    }
    let parent = root;
    for (const segment of path.slice(0, -1)) {
      const next = parent[segment] ?? node();
      if (typeof next !== "object") return fail("payload_invalid", `field ${name.slice(0, 64)} conflicts with a value`);
      parent[segment] = next;
      parent = next as Node;
    }
    const leaf = path[path.length - 1] as string;
    if (leaf in parent)
      return fail("payload_invalid", `field ${name.slice(0, 64)} given twice or conflicts with a group`);
    parent[leaf] = value;
  }
  return ok(root);
}
