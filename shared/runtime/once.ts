import { LIMITS } from '../store/limits.ts';
import type { Fence, Store } from '../store/port.ts';
import { sha256Hex } from '../util/hash.ts';
import type { FcContext } from './context.ts';
import { CancelledError, ConflictError, formatPath, KeyReuseError, ParseError } from './errors.ts';
import type { Logger } from './logger.ts';
import { stampLine } from './run-log.ts';

/** What the work inside `once` gets: its run record, to log to, and the fence of its lock if it took one. */
export interface RunHandle {
  id: string;
  log: Logger;
  /** Append text to the run's log (build output, plans); kept with the run, not in the function log. */
  append(text: string): Promise<void>;
  /** Proof of holding `options.lock`: pass it to the store writes the lock guards. */
  fence: Fence | undefined;
  /**
   * Mark the start of a named stage (fetch, build, boot...) or, for the current one, its progress
   * (0-100) and a short detail. Shown by `runs show` and the console. Never fails the work.
   */
  stage(name: string, progress?: { progress?: number; detail?: string }): Promise<void>;
  /** Aborted when someone cancels the run: pass it to what can stop (a child process, a wait). */
  signal: AbortSignal;
}

/** Every line of a run's log starts with when it was written (lines stamped earlier keep theirs). */
export function stampLines(text: string, at: Date): string {
  const lines = text.split('\n');
  const last = lines.length - 1;
  return lines.map((l, i) => (i === last && l === '' ? l : stampLine(l, at))).join('\n');
}

/** How often a running run looks whether someone cancelled it. */
export const CANCEL_POLL_MS = 2000;

export type OnceResult<T> = { status: 'done'; result: T; runId: string } | { status: 'duplicate'; result: T };

/** The key or the lock is held by someone else (only with `whenBusy: 'report'`). */
export interface Busy {
  status: 'busy';
  message: string;
  holder: string;
  until: string;
}

export interface OnceOptions {
  /** Overrides the key derived from the event (delivery id, trigger time, object eTag, Idempotency-Key). */
  key?: string | undefined;
  /** What the key is bound to: a reuse of the key with another payload is refused. Default: the event's. */
  payload?: unknown;
  /** Run kind; defaults to the job kind or the function name. */
  kind?: string;
  subject?: string;
  /** Hold this leased lock while the work runs: one at a time per thing, whichever key asked. */
  lock?: string | undefined;
  /** When the key or the lock is busy: a ConflictError (409; FC retries an async event), or a `Busy` result. */
  whenBusy?: 'conflict' | 'report';
}

export interface OnceDeps {
  store: () => Promise<Store>;
  fc: FcContext;
  log: Logger;
  correlationId: string;
  /** The idempotency key the event itself carries, if any. */
  eventKey: string | undefined;
  /**
   * SHA-256 of what the event asks for (request line and body, job payload, trigger payload), worked
   * out when a key is claimed: most GETs claim none, and a webhook body can be megabytes.
   */
  eventPayloadSha256: () => string;
  kind: string;
  attempt: number;
}

/**
 * Exactly-once side effects for a handler: claim the event's key, take the lock if one is named,
 * record a run, do the work, store the result. A redelivered event gets the stored result without
 * running again; one that arrives while the first is still running is busy (a ConflictError by
 * default); a failed attempt gives the key back so FC's retry can run it; a key reused for another
 * payload is a KeyReuseError.
 */
export async function runOnce<T>(
  deps: OnceDeps,
  options: OnceOptions,
  work: (run: RunHandle) => Promise<T>,
): Promise<OnceResult<T> | Busy> {
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
  const leaseMs = deps.fc.function.timeout * 1000 + 10_000;
  const payloadSha256 =
    options.payload === undefined ? deps.eventPayloadSha256() : sha256Hex(JSON.stringify(options.payload));
  const runInput = {
    kind: options.kind ?? deps.kind,
    subject: (options.subject ?? raw).slice(0, LIMITS.subject),
    correlationId: deps.correlationId,
    attempt: deps.attempt,
  };
  // Without a lock to take in between, the run is recorded by the claim itself (one round trip).
  const claim = await store.claim(key, {
    owner,
    leaseMs,
    payloadSha256,
    ...(options.lock ? {} : { run: runInput }),
  });
  if (claim.status === 'mismatch') throw new KeyReuseError(raw, 'idempotency key');
  if (claim.status === 'completed') {
    deps.log.info('duplicate event, returning the stored result', { key });
    return { status: 'duplicate', result: claim.result as T };
  }
  if (claim.status === 'in_progress') {
    return busy(options, `already running under key ${raw}`, claim.owner, claim.leaseExpiresAt);
  }
  let fence: Fence | undefined;
  if (options.lock) {
    const lock = await store.acquireLock(options.lock, { owner, ttlMs: leaseMs });
    if (!lock.acquired) {
      // Nothing ran: the key goes back, so the next delivery (or FC's retry) can claim it.
      await store.fail(key, owner, { message: `lock ${options.lock} held by ${lock.holder}` });
      return busy(options, `${options.lock} is held by ${lock.holder}`, lock.holder, lock.expiresAt);
    }
    fence = { lock: lock.name, owner, token: lock.token };
  }
  try {
    const run = claim.run ?? (await store.createRun(runInput));
    const log = deps.log.child({ runId: run.id });
    // Only runs that last look: the first check is one poll interval in, so short work costs nothing.
    const cancel = new AbortController();
    let cancelledBy: string | undefined;
    const poll = setInterval(() => {
      store.getRun(run.id).then(
        (r) => {
          if (r?.cancelRequestedAt && !cancel.signal.aborted) {
            cancelledBy = r.cancelRequestedBy ?? 'someone';
            log.warn('run cancelled', { by: cancelledBy });
            cancel.abort(new CancelledError(run.id, cancelledBy));
          }
        },
        () => {},
      );
    }, CANCEL_POLL_MS);
    poll.unref?.();
    try {
      let result: T;
      try {
        result = await work({
          id: run.id,
          log,
          append: (text) => store.appendRunLog(run.id, stampLines(text, new Date())),
          fence,
          stage: async (name, more = {}) => {
            await store
              .recordStage(run.id, { name, ...more })
              .catch((error) =>
                log.warn('stage not recorded', { stage: name, error: (error as Error).message }),
              );
          },
          signal: cancel.signal,
        });
      } finally {
        clearInterval(poll);
      }
      if (cancelledBy !== undefined) {
        // It ended on its own terms but after the request: what it did stands, and so does the request.
        await store.updateRun(run.id, { status: 'cancelled', result: result ?? null });
        await store.complete(key, owner, result ?? null);
        return { status: 'done', result, runId: run.id };
      }
      const finished = await store.finishRun(
        run.id,
        { status: 'succeeded', result: result ?? null },
        { key, owner },
      );
      if (!finished.completed) {
        log.warn('finished after the claim was taken over; the result stays with the run only', { key });
      }
      return { status: 'done', result, runId: run.id };
    } catch (error) {
      if (cancelledBy !== undefined) {
        // Stopped as asked: the key is kept (a redelivery must not start it again) and FC is told
        // not to retry.
        // The work may have ended with the signal's own reason, or with what stopping made it throw.
        const cancelled =
          error instanceof CancelledError ? error : new CancelledError(run.id, cancelledBy, { cause: error });
        await store
          .updateRun(run.id, { status: 'cancelled', error: describeError(cancelled) })
          .catch(() => {});
        await store.complete(key, owner, { cancelled: true, by: cancelledBy }).catch(() => {});
        throw cancelled;
      }
      await store.updateRun(run.id, { status: 'failed', error: describeError(error) }).catch(() => {});
      throw error;
    }
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    await store.fail(key, owner, describeError(error)).catch(() => {});
    throw error;
  } finally {
    if (fence) await store.releaseLock(fence).catch(() => {});
  }
}

function busy(options: OnceOptions, message: string, holder: string, until: Date): Busy {
  const state = { holder, until: until.toISOString() };
  if (options.whenBusy === 'report') return { status: 'busy', message, ...state };
  throw new ConflictError(message, { state });
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
