import type { z } from "zod";
import type { ParsedEvent, ParseFailure } from "./types";

// Legitimate webhook payloads nest a handful of levels; 10,000 levels is an attack on
// whoever walks the tree later (stringify, zod, a handler), so it is refused up front.
export const MAX_JSON_DEPTH = 64;

/** One linear pass over the text, skipping string contents, before JSON.parse builds anything. */
export function exceedsJsonDepth(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

export function parseJsonObject(
  text: string,
  reviver?: Reviver,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  if (exceedsJsonDepth(text)) return { ok: false, message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  let value: unknown;
  try {
    value = JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
  } catch {
    return { ok: false, message: "body is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, message: "body is not a JSON object" };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** zod's first issues as one short line: enough for the sender, never the whole payload. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
}

/** The common case: a JSON body whose envelope a zod schema describes. */
export function parseJsonEnvelope<S extends z.ZodType>(
  text: string,
  schema: S,
  describe: (event: z.output<S>) => Omit<ParsedEvent, "payloadJson">,
  reviver?: Reviver,
): ParsedEvent | ParseFailure {
  const json = parseJsonObject(text, reviver);
  if (!json.ok) return { error: "payload_invalid", message: json.message };
  const result = schema.safeParse(json.value);
  if (!result.success) return { error: "payload_invalid", message: describeIssues(result.error) };
  return { ...describe(result.data), payloadJson: text };
}
