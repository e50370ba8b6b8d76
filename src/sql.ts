/** A SQL boolean expression with its bound parameters, e.g. an `EXISTS (…)` gate. */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/** Both conditions; the second may be absent. */
export function both(a: SqlCondition, b: SqlCondition | undefined): SqlCondition {
  return b ? { sql: `(${a.sql}) AND (${b.sql})`, params: [...a.params, ...b.params] } : a;
}

/**
 * A D1 batch (one transaction) assembled from statements several modules contribute. Each
 * `add` answers that statement's own result once the batch has run, so no caller reads results
 * by their position in a batch it did not assemble alone.
 */
export class Batch {
  private readonly statements: D1PreparedStatement[] = [];
  private readonly settle: ((result: D1Result) => void)[] = [];

  add<T = Record<string, unknown>>(statement: D1PreparedStatement): Promise<D1Result<T>> {
    this.statements.push(statement);
    return new Promise((resolve) => this.settle.push(resolve as (result: D1Result) => void));
  }

  /** Runs every statement added, in order. If D1 refuses the batch, nothing was written and no `add` settles. */
  async run(db: D1Database): Promise<void> {
    const results = await db.batch(this.statements);
    for (const [i, settle] of this.settle.entries()) {
      const result = results[i];
      if (!result) throw new Error(`D1 answered ${results.length} results for ${this.statements.length} statements`);
      settle(result);
    }
  }
}
