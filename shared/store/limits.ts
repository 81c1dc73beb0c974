import { ParseError } from '../runtime/errors.ts';

/** Sizes the schema is built for; longer values are refused with the limit, never truncated. */
export const LIMITS = {
  key: 512,
  lockName: 200,
  owner: 200,
  stage: 100,
  kind: 100,
  subject: 500,
  historyKey: 200,
  actor: 200,
  action: 100,
  target: 500,
} as const;

export function checkLength(field: keyof typeof LIMITS, value: string): void {
  const limit = LIMITS[field];
  if (value.length === 0) throw new ParseError(field, [{ path: [field], message: 'must not be empty' }]);
  if (value.length > limit) {
    throw new ParseError(field, [
      { path: [field], message: `is ${value.length} characters; the limit is ${limit}` },
    ]);
  }
}
