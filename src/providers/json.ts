import type { z } from "zod";
import { describeIssues } from "../issues";
import { type Failure, fail, ok, type Result } from "../result";
import type { ParsedEvent, ParseFailure } from "./types";

// Legitimate webhook payloads nest a handful of levels; 10,000 levels is an attack on
// whoever walks the tree later (stringify, zod, a handler), so it is refused up front.
export const MAX_JSON_DEPTH = 64;

interface JsonShape {
  tooDeep: boolean;
  /** The first object key that appears twice in one object, if any. */
  duplicateKey: string | null;
}

/**
 * One linear pass over the text, before JSON.parse builds anything: the nesting depth, and object keys
 * given twice. JSON.parse silently keeps the last of two equal keys while the stored bytes keep both, so
 * the gateway, a handler and a downstream reader could each see another value: such a body is refused
 * (quarantined), one rule for every reader (RFC 7493, I-JSON).
 */
export function scanJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonShape {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let duplicateKey: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      const keys = open[open.length - 1];
      if (keys && duplicateKey === null && isFollowedByColon(text, i + 1)) {
        const key = escaped ? decodeKey(text.slice(start, i + 1)) : text.slice(start + 1, i);
        if (key !== null && keys.has(key)) duplicateKey = key;
        else if (key !== null) keys.add(key);
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (open.length >= maxDepth) return { tooDeep: true, duplicateKey };
      open.push(c === 0x7b ? new Set() : null);
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
    }
  }
  return { tooDeep: false, duplicateKey };
}

function isFollowedByColon(text: string, from: number): boolean {
  for (let j = from; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x3a) return true;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return false;
}

function decodeKey(literal: string): string | null {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return null; // not valid JSON: JSON.parse of the whole body reports it
  }
}

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

export type JsonObjectResult = Result<Record<string, unknown>, Failure<"payload_invalid">>;

/** A JSON object body: not too deep, valid, an object, no key given twice. */
export function parseJsonObject(text: string, reviver?: Reviver): JsonObjectResult {
  const shape = scanJson(text);
  if (shape.tooDeep) return fail("payload_invalid", `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
  } catch {
    return fail("payload_invalid", "body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("payload_invalid", "body is not a JSON object");
  }
  // No id is read from such a body (which of its two would it be?): it is keyed by its hash.
  if (shape.duplicateKey !== null) {
    return fail("payload_invalid", `key ${JSON.stringify(shape.duplicateKey.slice(0, 64))} given twice`);
  }
  return ok(value as Record<string, unknown>);
}

/** The envelope fields that name an event, read even from a body that fails its schema. */
export interface EnvelopeKeys {
  id: string;
  type: string;
}

/**
 * The common case: a JSON body whose envelope a zod schema describes. A failure carries the event's
 * id and type where they can be read, so a quarantined delivery is deduplicated by its id.
 */
export function parseJsonEnvelope<S extends z.ZodType>(
  text: string,
  schema: S,
  describe: (event: z.output<S>) => Omit<ParsedEvent, "payloadJson">,
  options: { keys?: EnvelopeKeys; reviver?: Reviver } = {},
): Result<ParsedEvent, ParseFailure> {
  const json = parseJsonObject(text, options.reviver);
  if (!json.ok) return json;
  const result = schema.safeParse(json.value);
  if (!result.success) {
    const named = options.keys ? readable(json.value, options.keys) : {};
    return { ...fail("payload_invalid", describeIssues(result.error)), ...named };
  }
  return ok({ ...describe(result.data), payloadJson: text });
}

function readable(value: Record<string, unknown>, keys: EnvelopeKeys) {
  const id = value[keys.id];
  const type = value[keys.type];
  return {
    ...(typeof id === "string" ? { dedupeKey: id } : {}),
    ...(typeof type === "string" ? { type } : {}),
  };
}
