import { LIMITS } from '../store/limits.ts';
import type { Store } from '../store/port.ts';
import { sha256Hex } from '../util/hash.ts';
import type { FcContext } from './context.ts';
import { ConflictError, formatPath, InvariantError, ParseError } from './errors.ts';
import type { Logger } from './logger.ts';

/** What the work inside `once` gets: its run record, to log to. */
export interface RunHandle {
  id: string;
  log: Logger;
  /** Append text to the run's log (build output, plans); kept with the run, not in the function log. */
  append(text: string): Promise<void>;
}

export type OnceResult<T> = { status: 'done'; result: T; runId: string } | { status: 'duplicate'; result: T };

export interface OnceOptions {
  /** Overrides the key derived from the event (delivery id, trigger time, object eTag, Idempotency-Key). */
  key?: string;
  /** Run kind; defaults to the job kind or the function name. */
  kind?: string;
  subject?: string;
}

export interface OnceDeps {
  store: (() => Promise<Store>) | undefined;
  fc: FcContext;
  log: Logger;
  correlationId: string;
  /** The idempotency key the event itself carries, if any. */
  eventKey: string | undefined;
  kind: string;
  attempt: number;
}

/**
 * Exactly-once side effects for a handler: claim the event's key, record a run, do the work, store
 * the result. A redelivered event gets the stored result without running again; one that arrives
 * while the first is still running gets a ConflictError (409 over HTTP; FC retries an async event
 * later); a failed attempt gives the key back so FC's retry can run it.
 */
export async function runOnce<T>(
  deps: OnceDeps,
  options: OnceOptions,
  work: (run: RunHandle) => Promise<T>,
): Promise<OnceResult<T>> {
  if (!deps.store)
    throw new InvariantError('ctx.once needs a store: pass `store: storeFromEnv()` to defineHandler');
  const raw = options.key ?? deps.eventKey;
  if (!raw) {
    throw new ParseError('request', [
      {
        path: ['headers', 'idempotency-key'],
        message: 'required: this operation changes something and must not run twice',
      },
    ]);
  }
  const key = fitKey(`${deps.fc.function.name}:${raw}`);
  const store = await deps.store();
  const owner = `${deps.fc.requestId}`;
  const claim = await store.claim(key, { owner, leaseMs: deps.fc.function.timeout * 1000 + 10_000 });
  if (claim.status === 'completed') {
    deps.log.info('duplicate event, returning the stored result', { key });
    return { status: 'duplicate', result: claim.result as T };
  }
  if (claim.status === 'in_progress') {
    throw new ConflictError(`already running under key ${key}`, {
      state: { key, owner: claim.owner, leaseExpiresAt: claim.leaseExpiresAt.toISOString() },
    });
  }
  const run = await store.createRun({
    kind: options.kind ?? deps.kind,
    subject: (options.subject ?? raw).slice(0, LIMITS.subject),
    correlationId: deps.correlationId,
    attempt: deps.attempt,
  });
  const log = deps.log.child({ runId: run.id });
  try {
    const result = await work({ id: run.id, log, append: (text) => store.appendRunLog(run.id, text) });
    await store.updateRun(run.id, { status: 'succeeded', result: result ?? null });
    if (!(await store.complete(key, owner, result ?? null))) {
      log.warn('finished after the claim was taken over; the result stays with the run only', { key });
    }
    return { status: 'done', result, runId: run.id };
  } catch (error) {
    const described = describeError(error);
    await store.updateRun(run.id, { status: 'failed', error: described }).catch(() => {});
    await store.fail(key, owner, described).catch(() => {});
    throw error;
  }
}

/** Long keys (object keys, caller-supplied headers) are hashed to fit the store's limit. */
function fitKey(key: string): string {
  if (key.length <= LIMITS.key) return key;
  return `${key.slice(0, 200)}#sha256:${sha256Hex(key)}`;
}

function describeError(error: unknown) {
  if (error instanceof ParseError)
    return { name: error.name, message: error.message, issues: error.issues.map((i) => formatPath(i.path)) };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}
