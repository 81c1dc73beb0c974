/** The little a store needs of a SQL engine; `pg` and PGlite both fit behind it. */
export interface SqlRunner {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface SqlClient extends SqlRunner {
  readonly engine: 'postgres' | 'pglite';
  /** Run `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PostgreSQL's SQLSTATE for a unique violation. */
export const UNIQUE_VIOLATION = '23505';

export function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

/**
 * JSON for a `jsonb` parameter. PostgreSQL cannot store U+0000 (in text or jsonb) or a lone
 * surrogate, and both turn up in data fc-devops keeps (a packer log tail, a commit message): they
 * become U+FFFD, in values and in keys, so the record is kept rather than the write failing.
 */
export function toJsonb(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) => {
    if (typeof v === 'string') return storableText(v);
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some(unstorable)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [storableText(k), x]));
    }
    return v;
  });
}

const unstorable = (s: string) => s.includes('\u0000') || !s.isWellFormed();

/** Text PostgreSQL can store: NUL and lone surrogates replaced by U+FFFD. */
export function storableText(text: string): string {
  return unstorable(text) ? text.replaceAll('\u0000', '\uFFFD').toWellFormed() : text;
}

/** A client whose text parameters are made storable (see `storableText`) before they are sent. */
export function storableParams(db: SqlClient): SqlClient {
  const clean = (params?: readonly unknown[]) =>
    params?.map((p) => (typeof p === 'string' ? storableText(p) : p));
  const runner = (r: SqlRunner): SqlRunner => ({ query: (text, params) => r.query(text, clean(params)) });
  return {
    engine: db.engine,
    ...runner(db),
    transaction: (fn) => db.transaction((tx) => fn(runner(tx))),
    close: () => db.close(),
  };
}
