import type { ValidationTargets } from "hono";
import { validator } from "hono/validator";
import type { z } from "zod";
import { errorBody } from "./errors";

/** hono's validator with a zod schema; failures answer 400 in the one error shape. */
export function zodValidate<T extends keyof ValidationTargets, S extends z.ZodType>(target: T, schema: S) {
  return validator(target, (value, c) => {
    const result = schema.safeParse(value);
    if (!result.success) {
      return c.json(
        errorBody(`invalid_${target}`, "request failed validation", {
          issues: result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
        }),
        400,
      );
    }
    return result.data as z.output<S>;
  });
}
