// zod's issues for people: one summariser for answers, logs and the tools. Types only, so the
// Node tools can import it as it is.
import type { z } from "zod";

/** Each issue as `{path, message}`, the path dotted: what a 400 answer lists. */
export function issueList(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

/** The first `max` issues as one short line (`data.id: Required; type: …`): never the whole payload. */
export function describeIssues(error: z.ZodError, max = 3): string {
  return issueList(error)
    .slice(0, max)
    .map((issue) => `${issue.path || "(root)"}: ${issue.message}`)
    .join("; ");
}
