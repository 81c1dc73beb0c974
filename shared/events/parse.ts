import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { type Issue, ParseError } from '../runtime/errors.ts';

// zod/mini carries no messages of its own: the English ones, as full zod gives them (and our errors quote).
z.config(en());

/**
 * Parse `value` with `schema`; on failure throw a ParseError whose issue paths are re-rooted under
 * `root`, so a log says which record and which field was bad (`events.0.oss.bucket.name`).
 */
export function parseWith<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  what: string,
  root: ReadonlyArray<string | number> = [],
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ParseError(what, toIssues(result.error, root));
}

export function toIssues(error: z.core.$ZodError, root: ReadonlyArray<string | number> = []): Issue[] {
  return error.issues.map((issue) => ({
    path: [...root, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: issue.message,
  }));
}

/** Decode FC's Buffer event into JSON, or a ParseError that says so. */
export function decodeJson(event: Buffer | string | Uint8Array, what = 'event'): unknown {
  const text = typeof event === 'string' ? event : Buffer.from(event).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ParseError(what, [{ path: [], message: `not valid JSON (${(cause as Error).message})` }]);
  }
}

/**
 * A schema built on its first use. zod builds every schema's internals when it is declared (a few
 * hundred at a function's import were a quarter of its cold start); declared through this, a cold
 * start builds only the schemas its first event parses.
 */
export function lazySchema<S extends z.ZodMiniType>(build: () => S): z.ZodMiniLazy<S> {
  return z.lazy(build);
}
