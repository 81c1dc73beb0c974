/**
 * The error taxonomy. Every error fc-devops raises on purpose is one of these six, so the runtime can
 * map it to an answer (400, 409, 422, 502, 500) and decide whether an async event is worth retrying.
 * Expected outcomes ("lock held", "already done", "nothing to do") are results, not errors.
 */

export const ErrorCode = {
  parse: 'ParseError',
  config: 'ConfigError',
  conflict: 'ConflictError',
  upstream: 'UpstreamError',
  invariant: 'InvariantError',
  keyReuse: 'KeyReuseError',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Base class: a name, a code and a cause; the message carries the cause's message too. Every error
 * class names itself (`override name = '...'`): bundles are minified without esbuild's keepNames
 * (it cost each cold start ~1.5 ms), so a class's own name is not what it was written as.
 */
export abstract class FcDevopsError extends Error {
  abstract readonly code: ErrorCode;
  /** Whether an async event that failed with this error is worth redelivering. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    const causeMessage = options?.cause instanceof Error ? options.cause.message : undefined;
    super(causeMessage ? `${message}: ${causeMessage}` : message, options);
  }
}

/** One problem with input, located by a path into the input (e.g. `events.0.oss.bucket.name`). */
export interface Issue {
  path: ReadonlyArray<string | number>;
  message: string;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** Input that does not fit its schema. Never retryable: the same bytes will fail the same way. */
export class ParseError extends FcDevopsError {
  override name = 'ParseError';
  readonly code = ErrorCode.parse;
  readonly retryable = false;
  readonly issues: readonly Issue[];

  constructor(what: string, issues: readonly Issue[], options?: { cause?: unknown }) {
    const detail = issues
      .slice(0, 5)
      .map((i) => `${formatPath(i.path)}: ${i.message}`)
      .join('; ');
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
    super(`invalid ${what}: ${detail}${more}`, options);
    this.issues = issues;
  }
}

/** Where in a file a config problem is. */
export interface ConfigLocation {
  file: string;
  line?: number;
  column?: number;
  field?: string;
}

/** A configuration file or environment that cannot work. Raised at cold start, never retryable. */
export class ConfigError extends FcDevopsError {
  override name = 'ConfigError';
  readonly code = ErrorCode.config;
  readonly retryable = false;
  readonly problems: readonly (ConfigLocation & { message: string })[];

  constructor(problems: readonly (ConfigLocation & { message: string })[], options?: { cause?: unknown }) {
    super(problems.map(formatConfigProblem).join('\n'), options);
    this.problems = problems;
  }
}

export function formatConfigProblem(p: ConfigLocation & { message: string }): string {
  const where = [p.file, p.line, p.column].filter((x) => x !== undefined).join(':');
  return p.field ? `${where} ${p.field}: ${p.message}` : `${where} ${p.message}`;
}

/** Someone else holds the thing (a lock, an in-flight idempotency key, a running release). */
export class ConflictError extends FcDevopsError {
  override name = 'ConflictError';
  readonly code = ErrorCode.conflict;
  readonly retryable = true;
  readonly state: unknown;

  constructor(message: string, options?: { cause?: unknown; state?: unknown }) {
    super(message, options);
    this.state = options?.state;
  }
}

/**
 * A person cancelled the run while it worked (`runs cancel`, the console). A conflict with that
 * person's decision, answered 409, and never retried: the run ended as they asked.
 */
export class CancelledError extends FcDevopsError {
  override name = 'CancelledError';
  readonly code = ErrorCode.conflict;
  readonly retryable = false;
  readonly by: string;

  constructor(runId: string, by: string, options?: { cause?: unknown }) {
    super(`run ${runId} was cancelled by ${by}`, options);
    this.by = by;
  }
}

/** A service we call (an Alibaba API, a webhook, a binary) failed. */
export class UpstreamError extends FcDevopsError {
  override name = 'UpstreamError';
  readonly code = ErrorCode.upstream;
  readonly retryable: boolean;
  readonly service: string;
  readonly upstreamCode: string | undefined;
  readonly requestId: string | undefined;
  readonly status: number | undefined;

  constructor(
    service: string,
    message: string,
    options?: { cause?: unknown; code?: string; requestId?: string; status?: number; retryable?: boolean },
  ) {
    super(`${service}: ${message}`, options);
    this.service = service;
    this.upstreamCode = options?.code;
    this.requestId = options?.requestId;
    this.status = options?.status;
    this.retryable = options?.retryable ?? true;
  }
}

/** Something that must never happen did: a bug or a corrupted state. */
export class InvariantError extends FcDevopsError {
  override name = 'InvariantError';
  readonly code = ErrorCode.invariant;
  readonly retryable = false;
}

/**
 * An idempotency key used again for a different request or payload. Answering with the first
 * request's result would be a lie, and waiting would not help: a 422 that names the key.
 */
export class KeyReuseError extends FcDevopsError {
  override name = 'KeyReuseError';
  readonly code = ErrorCode.keyReuse;
  readonly retryable = false;
  readonly key: string;

  constructor(key: string, what: string) {
    super(`${what} ${key} was first used for a different request; use a new key for a new request`);
    this.key = key;
  }
}
