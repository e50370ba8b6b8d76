import { MAX_JSON_DEPTH } from "../json";

const FORBIDDEN_SEGMENTS = new Set(["__proto__", "prototype", "constructor"]);

/**
 * Nuvei's name-value-pair webhooks use dotted names (`result.status=approved`); they become
 * the same nested shape as the JSON webhook. Values stay strings, as sent.
 */
export function parseDottedForm(
  text: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  const root: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const path = name.split(".");
    // The same bound as for JSON bodies: what is accepted here must be storable and readable.
    if (path.length > MAX_JSON_DEPTH)
      return { ok: false, message: `field name nested deeper than ${MAX_JSON_DEPTH} levels` };
    if (path.some((segment) => segment === "" || FORBIDDEN_SEGMENTS.has(segment))) {
      return { ok: false, message: `field name not allowed: ${name.slice(0, 64)}` };
    }
    let node = root;
    for (const segment of path.slice(0, -1)) {
      const next = node[segment] ?? {};
      if (typeof next !== "object") return { ok: false, message: `field ${name.slice(0, 64)} conflicts with a value` };
      node[segment] = next;
      node = next as Record<string, unknown>;
    }
    const leaf = path[path.length - 1] as string;
    if (leaf in node) return { ok: false, message: `field ${name.slice(0, 64)} given twice or conflicts with a group` };
    node[leaf] = value;
  }
  return { ok: true, value: root };
}
