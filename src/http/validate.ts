import { validator } from "hono/validator";
import { z } from "zod";
import { issueList } from "../issues";
import { jsonError } from "./errors";

/** hono's validator with a zod schema; failures answer 400 `invalid_json` or `invalid_query`, with the issues. */
export function zodValidate<T extends "json" | "query", S extends z.ZodType>(target: T, schema: S) {
  return validator(target, (value, c) => {
    const result = schema.safeParse(value);
    if (!result.success) {
      return jsonError(c, `invalid_${target}`, "request failed validation", {
        fields: { issues: issueList(result.error) },
      });
    }
    return result.data as z.output<S>;
  });
}

/** A list's `limit` query parameter: a whole number 1 to 200, 50 unless given (docs/contract.md §7). */
export const pageLimit = () =>
  z
    .string()
    .regex(/^\d+$/, "a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(200))
    .optional()
    .default(50);
