import type { Issue } from '../runtime/errors.ts';

/**
 * Checks for the envelopes FC hands every function (HTTP trigger, timer, job message), written out
 * instead of declared with zod: the first zod parse in a process compiles zod's parser and the
 * schema's internals, ~3 ms of every HTTP function's cold start, paid before the handler runs.
 * Issues read exactly as zod's English messages (the payload schemas behind the envelope are still
 * zod); test/unit/envelope-check.test.ts holds each envelope against its zod declaration.
 */

type Path = ReadonlyArray<string | number>;

/**
 * zod's `iso.datetime({ offset: true })`, so job and timer envelopes accept exactly the date-times they
 * always did: a real calendar date (29 February in leap years only), seconds, `Z` or `±hh:mm`.
 * (Importing it from zod's regexes brought all of them, 5 KB.) The test compares it with zod's.
 */
export const ISO_DATETIME =
  /^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))T(?:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|([+-](?:[01]\d|2[0-3]):[0-5]\d)))$/;

/** What a value is, as zod's messages say it (`received null`, `received array`, `received NaN`). */
function received(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null && typeof value.constructor === 'function')
      return value.constructor.name;
  }
  return typeof value;
}

export interface StringRules {
  min?: number;
  max?: number;
  /** Checked before the length limits, as the schemas list them. */
  pattern?: { re: RegExp; message: string };
  /** An ISO 8601 date-time with seconds and a `Z` or `±hh:mm` offset. */
  datetime?: boolean;
}

export class EnvelopeCheck {
  readonly issues: Issue[] = [];

  private issue(path: Path, message: string): undefined {
    this.issues.push({ path: [...path], message });
    return undefined;
  }

  private wrongType(path: Path, expected: string, value: unknown): undefined {
    return this.issue(path, `Invalid input: expected ${expected}, received ${received(value)}`);
  }

  /** An object (not null, not an array) whose fields the caller checks next. */
  object(value: unknown, path: Path): Record<string, unknown> | undefined {
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
    return this.wrongType(path, 'object', value);
  }

  string(value: unknown, path: Path, rules: StringRules = {}): string | undefined {
    if (typeof value !== 'string') return this.wrongType(path, 'string', value);
    const before = this.issues.length;
    if (rules.pattern && !rules.pattern.re.test(value)) this.issue(path, rules.pattern.message);
    if (rules.datetime && !ISO_DATETIME.test(value)) this.issue(path, 'Invalid ISO datetime');
    if (rules.min !== undefined && value.length < rules.min)
      this.issue(path, `Too small: expected string to have >=${rules.min} characters`);
    if (rules.max !== undefined && value.length > rules.max)
      this.issue(path, `Too big: expected string to have <=${rules.max} characters`);
    return this.issues.length === before ? value : undefined;
  }

  /** Absent or `undefined` is fine; anything else must be a string. */
  optionalString(value: unknown, path: Path): string | undefined {
    return value === undefined ? undefined : this.string(value, path);
  }

  boolean(value: unknown, path: Path): boolean | undefined {
    return typeof value === 'boolean' ? value : this.wrongType(path, 'boolean', value);
  }

  literal<T extends string>(value: unknown, path: Path, expected: T): T | undefined {
    return value === expected ? expected : this.issue(path, `Invalid input: expected "${expected}"`);
  }

  /** A safe integer within [min, max]. */
  int(value: unknown, path: Path, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.wrongType(path, 'number', value);
    if (!Number.isInteger(value)) return this.issue(path, 'Invalid input: expected int, received number');
    const before = this.issues.length;
    if (value > Number.MAX_SAFE_INTEGER)
      this.issue(path, `Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`);
    if (value < Number.MIN_SAFE_INTEGER)
      this.issue(path, `Too small: expected int to be >=${Number.MIN_SAFE_INTEGER}`);
    if (value < min) this.issue(path, `Too small: expected number to be >=${min}`);
    if (value > max) this.issue(path, `Too big: expected number to be <=${max}`);
    return this.issues.length === before ? value : undefined;
  }

  /** A record of strings (headers, query parameters); a key that is not a string-valued entry is named. */
  stringRecord(value: unknown, path: Path): Record<string, string> | undefined {
    const proto = typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined;
    if (Array.isArray(value) || (proto !== Object.prototype && proto !== null))
      return this.wrongType(path, 'record', value);
    const before = this.issues.length;
    const out: Record<string, string> = {};
    for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
      if (typeof entry === 'string') out[key] = entry;
      else this.wrongType([...path, key], 'string', entry);
    }
    return this.issues.length === before ? out : undefined;
  }

  /** A field that must be present, whatever its value (`payload` of a job). */
  present(record: Record<string, unknown>, key: string, path: Path): void {
    if (!(key in record))
      this.issue([...path, key], 'Invalid input: expected nonoptional, received undefined');
  }
}
