import { type AttemptRow, attemptsOfEvent, toApiAttempt } from "../effects/attempts";
import { effectsOfEvent } from "../effects/ledger";

interface EffectSummary {
  id: string;
  name: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

/**
 * An event's effects with their attempt history (docs/contract.md §7), newest attempt last.
 * `nextRetryAt` is the retry the queue was asked for, while the effect waits for it.
 */
export async function effectDetails(db: D1Database, eventId: string) {
  const [effects, attempts] = await db.batch([effectsOfEvent(db, eventId), attemptsOfEvent(db, eventId)]);
  const history = new Map<string, AttemptRow[]>();
  for (const row of (attempts?.results ?? []) as AttemptRow[]) {
    history.set(row.effect_id, [...(history.get(row.effect_id) ?? []), row]);
  }
  return ((effects?.results ?? []) as EffectSummary[]).map((effect) => {
    const rows = history.get(effect.id) ?? [];
    const last = rows[rows.length - 1];
    return {
      ...effect,
      nextRetryAt: effect.status === "failed" ? (last?.next_retry_at ?? null) : null,
      history: rows.map(toApiAttempt),
    };
  });
}
