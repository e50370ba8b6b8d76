import { validator } from "hono/validator";
import type { z } from "zod";
import { jsonError } from "./errors";

/** hono's validator with a zod schema; failures answer 400 `invalid_json` or `invalid_query`, with the issues. */
export function zodValidate<T extends "json" | "query", S extends z.ZodType>(target: T, schema: S) {
  return validator(target, (value, c) => {
    const result = schema.safeParse(value);
    if (!result.success) {
      return jsonError(c, `invalid_${target}`, "request failed validation", {
        fields: {
          issues: result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
        },
      });
    }
    return result.data as z.output<S>;
  });
}
