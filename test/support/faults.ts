// Faults injected into the real local D1: every method but the one replaced is D1's own, bound to it.
// A proxy, not a spread: a spread loses `prepare`, a prototype method, and the code under test would
// die on a TypeError before it reached the fault.

/** `db` with `key` replaced by what `replace` builds from the real database. */
export function d1With<K extends keyof D1Database>(
  db: D1Database,
  key: K,
  replace: (real: D1Database) => D1Database[K],
): D1Database {
  return new Proxy(db, {
    get(target, property) {
      if (property === key) return replace(target);
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * `db` failing as an outage does: `prepare` throws at once, `batch` rejects once called.
 */
export function d1Failing(db: D1Database, method: "prepare" | "batch", message: string): D1Database {
  return method === "prepare"
    ? d1With(db, "prepare", () => () => {
        throw new Error(message);
      })
    : d1With(db, "batch", () => async () => {
        throw new Error(message);
      });
}
