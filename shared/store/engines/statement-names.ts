/**
 * Names for the store's parameterized statements, so PostgreSQL parses and plans each one once per
 * connection instead of on every call (the webhook bench: 2.0-2.2 -> 1.1-1.3 ms of server CPU per
 * delivery). Each distinct text gets its own name; past `limit` texts (statements built from
 * variable parts) the rest run unnamed, so neither the pool nor the server's memory grows unbounded.
 */
export class StatementNames {
  readonly #names = new Map<string, string>();
  #next = 0;

  constructor(readonly limit = 200) {}

  /** The name to prepare `text` under, or undefined to run it unnamed. */
  nameFor(text: string): string | undefined {
    const known = this.#names.get(text);
    if (known !== undefined || this.#names.size >= this.limit) return known;
    const name = `fcd_${this.#next++}`;
    this.#names.set(text, name);
    return name;
  }

  /**
   * A fresh name for `text` after the server refused its prepared plan (the table changed under it:
   * another instance ran a migration). Connections that prepared the old name keep it unused.
   */
  renew(text: string): string {
    const name = `fcd_${this.#next++}`;
    this.#names.set(text, name);
    return name;
  }
}

/**
 * PostgreSQL's refusal to run a prepared statement whose result columns changed since it was
 * prepared (`select *`/`returning *` after an `alter table`): SQLSTATE 0A000 with this message.
 * Nothing ran, so outside a transaction the statement can be sent again under a new name.
 */
export function isStalePlan(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === '0A000' &&
    typeof e.message === 'string' &&
    e.message.includes('cached plan must not change result type')
  );
}
