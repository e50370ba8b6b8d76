// In-memory stand-ins for the gateway's KV, queue, D1 and Cache API, for `bench:cpu` only (never a
// test: tests use the real local bindings). Each answers at once, so that the CPU workerd spends on a
// request is the worker's own, as production bills it: there, the bindings run elsewhere. They do the
// work the real binding does inside the isolate (the queue serialises its message), no more.

interface Stored {
  value: string;
  metadata: unknown;
}

/** KV: `getWithMetadata` and `put`, from a Map. */
export function memoryKv() {
  const map = new Map<string, Stored>();
  return {
    size: () => map.size,
    async get(key: string): Promise<string | null> {
      return map.get(key)?.value ?? null;
    },
    async getWithMetadata(key: string): Promise<{ value: string | null; metadata: unknown }> {
      const stored = map.get(key);
      return { value: stored?.value ?? null, metadata: stored?.metadata ?? null };
    },
    async put(key: string, value: string, options?: { metadata?: unknown }): Promise<void> {
      map.set(key, { value, metadata: options?.metadata ?? null });
    },
  };
}

/** What the consumer would have recorded: the event's status and body hash, by event id. */
export type RecordedEvents = Map<string, { status: string; bodySha256: string | null }>;

/**
 * Queue: `send` serialises the message as the real binding does with `contentType: "json"`, counts
 * it, and records the event as the consumer would (so that D1 knows it afterwards).
 */
export function memoryQueue(recorded: RecordedEvents) {
  let sent = 0;
  let bytes = 0;
  return {
    sent: () => sent,
    bytes: () => bytes,
    async send(message: { id?: string; bodySha256?: string }): Promise<void> {
      bytes += JSON.stringify(message).length;
      sent++;
      if (typeof message.id === "string")
        recorded.set(message.id, { status: "processed", bodySha256: message.bodySha256 ?? null });
    },
  };
}

/**
 * D1, as far as ingest reads it: `prepare(sql).bind(id).first()` answers from the recorded events
 * (the dedupe read of `DEDUPE_MODE=edge`); `withSession` is the database itself.
 */
export function memoryD1(recorded: RecordedEvents) {
  const statement = (sql: string, params: unknown[]) => ({
    bind: (...values: unknown[]) => statement(sql, values),
    async first(): Promise<unknown> {
      if (!/FROM events WHERE id = \?/.test(sql)) throw new Error(`memoryD1: unsupported query ${sql}`);
      const row = recorded.get(String(params[0]));
      return row ? { status: row.status, bodySha256: row.bodySha256 } : null;
    },
    async run(): Promise<never> {
      throw new Error(`memoryD1: writes are not part of this benchmark (${sql})`);
    },
  });
  const db = {
    prepare: (sql: string) => statement(sql, []),
    withSession: () => db,
  };
  return db;
}

/** The Cache API's `match` and `put`, from a Map of response bodies by URL. */
export function memoryCache() {
  const map = new Map<string, string>();
  return {
    async match(url: string): Promise<Response | undefined> {
      const text = map.get(url);
      return text === undefined ? undefined : new Response(text);
    },
    async put(url: string, response: Response): Promise<void> {
      map.set(url, await response.text());
    },
  };
}
