// Bindings that count the billable operations passing through them on the way to the real
// local KV, D1 and queue. They change nothing they pass on.

export interface Meter {
  kvReads: number;
  kvWrites: number;
  queueMessages: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  /** SQL statements D1 executed, one per statement of a batch: what a database's throughput is spent on. */
  d1Statements: number;
}

export const newMeter = (): Meter => ({
  kvReads: 0,
  kvWrites: 0,
  queueMessages: 0,
  d1RowsRead: 0,
  d1RowsWritten: 0,
  d1Statements: 0,
});

export function meteredKv(kv: KVNamespace, meter: Meter): KVNamespace {
  return new Proxy(kv, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      if (key === "get" || key === "getWithMetadata" || key === "list") {
        return (...args: unknown[]) => {
          meter.kvReads++;
          return value.apply(target, args);
        };
      }
      if (key === "put" || key === "delete") {
        return (...args: unknown[]) => {
          meter.kvWrites++;
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
}

export function meteredQueue(queue: Queue, meter: Meter): Queue {
  return {
    send: (message: unknown, options?: QueueSendOptions) => {
      meter.queueMessages++;
      return queue.send(message, options);
    },
    sendBatch: (messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      meter.queueMessages += list.length;
      return queue.sendBatch(list, options);
    },
    metrics: () => queue.metrics(),
  } as unknown as Queue;
}

export function meteredD1(db: D1Database, meter: Meter): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const count = (result: D1Result) => {
    meter.d1Statements++;
    meter.d1RowsRead += result.meta.rows_read ?? 0;
    meter.d1RowsWritten += result.meta.rows_written ?? 0;
    return result;
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      run: async () => count(await statement.run()),
      all: async () => count(await statement.all()),
      // first() hides its meta, so it is answered from all(): same rows, now counted.
      first: async (column?: string) => {
        const row = (count(await statement.all()).results[0] ?? null) as Record<string, unknown> | null;
        return column === undefined || row === null ? row : (row[column] ?? null);
      },
      raw: (options?: { columnNames?: boolean }) => statement.raw(options as { columnNames: true }),
    } as unknown as D1PreparedStatement;
    real.set(proxy, statement);
    return proxy;
  };
  const metered = {
    prepare: (sql: string) => wrap(db.prepare(sql)),
    batch: async (statements: D1PreparedStatement[]) =>
      (await db.batch(statements.map((s) => real.get(s) ?? s))).map(count),
    exec: (sql: string) => db.exec(sql),
    // A session only routes reads (to a replica); its rows are billed like any others.
    withSession: () => metered,
    dump: () => db.dump(),
  } as unknown as D1Database;
  return metered;
}
